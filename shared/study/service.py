"""Study sessions (D8, D3) and propaganda (D9): the rules a record must keep, and the figures over a subtree."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.core.errors import check_one_of, invalid
from shared.core.scope import UnitInfo, records, subtree_units, units_info, up_select
from shared.core.service import RecordKind, RecordService, Shapes
from shared.documents.service import visible_document
from shared.study.records import (
    CHANNELS,
    PROPAGANDA,
    SESSION_FORMS,
    STUDY_SESSION,
    PropagandaRecord,
    StudySessionRecord,
)
from shared.study.schemas import (
    CHANNEL_LABELS_VI,
    ChannelTotal,
    Coverage,
    CoverageRow,
    Propaganda,
    PropagandaCreate,
    PropagandaUpdate,
    StudySession,
    StudySessionCreate,
    StudySessionUpdate,
)
from shared.sync.tables import UnitRow


async def check_session(conn: AsyncConnection, owner: UnitInfo, rec: StudySessionRecord) -> StudySessionRecord:
    """D8: a titled session of a known form, on documents signed before it, attendance within the invited."""
    rec = msgspec.structs.replace(
        rec,
        title=rec.title.strip(),
        documents=list(dict.fromkeys(rec.documents)),
        participants=rec.participants.strip(),
    )
    if not rec.title.strip():
        raise invalid("title", "D8", "Thiếu tên buổi học tập, quán triệt.", "The title is empty.")
    check_one_of(rec.form, SESSION_FORMS, "form", "D8", "Hình thức", "trực tiếp, trực tuyến, kết hợp")
    if not rec.documents:
        raise invalid(
            "documents", "D8", "Buổi học tập phải gắn với ít nhất một văn bản.", "Name at least one document."
        )
    if rec.invited < 0:
        raise invalid("invited", "D8", "Số được triệu tập không được âm.", "invited must not be negative.")
    if not 0 <= rec.attended <= rec.invited:
        raise invalid(
            "attended",
            "D8",
            f"Số tham dự ({rec.attended}) phải từ 0 đến số được triệu tập ({rec.invited}).",
            f"attended ({rec.attended}) must be between 0 and invited ({rec.invited}).",
        )
    for i, doc_id in enumerate(rec.documents):
        doc = await visible_document(conn, owner, doc_id, f"documents[{i}]")
        if rec.held_on < doc.signed_on:
            raise invalid(
                "held_on",
                "D8",
                f"Ngày học tập trước ngày ký văn bản {doc.number}.",
                f"The session is dated before {doc.number} was signed.",
            )
    return rec


async def check_propaganda(conn: AsyncConnection, owner: UnitInfo, rec: PropagandaRecord) -> PropagandaRecord:
    """D9: a known channel, counts not negative, a period that ends after it starts."""
    rec = msgspec.structs.replace(rec, note=rec.note.strip())
    check_one_of(rec.channel, CHANNELS, "channel", "D9", "Kênh tuyên truyền")
    for field in ("count", "reached"):
        if getattr(rec, field) < 0:
            raise invalid(field, "D9", "Số lượng không được âm.", f"{field} must not be negative.")
    if rec.period_end < rec.period_start:
        raise invalid("period_end", "D9", "Kỳ báo cáo kết thúc trước khi bắt đầu.", "The period ends before it starts.")
    if rec.document is not None:
        await visible_document(conn, owner, rec.document, "document")
    return rec


SESSIONS: RecordService[StudySessionRecord] = RecordService(
    RecordKind(STUDY_SESSION, ("buổi học tập", "study session"), check_session),
    Shapes(StudySession, StudySessionCreate, StudySessionUpdate),
)
PROPAGANDA_ITEMS: RecordService[PropagandaRecord] = RecordService(
    RecordKind(PROPAGANDA, ("hoạt động tuyên truyền", "propaganda activity"), check_propaganda),
    Shapes(Propaganda, PropagandaCreate, PropagandaUpdate),
)


async def coverage(conn: AsyncConnection, viewer: UnitInfo, document: uuid.UUID) -> Coverage:
    """Which units of a subtree have held a session on a document (D8); armed-forces units apart (D3)."""
    doc = await visible_document(conn, viewer, document, "document")
    units = await subtree_units(conn, viewer)
    if doc.applies_to:
        targets = await units_info(conn, list(doc.applies_to))
        units = [u for u in units if any(t.covers(u) or u.covers(t) for t in targets.values())]
    armed = await _armed_subtrees(conn, units)
    sessions: dict[uuid.UUID, list[StudySessionRecord]] = {}
    for rec in await records(conn, STUDY_SESSION, up_select(STUDY_SESSION, viewer)):
        if not rec.deleted and doc.id in rec.documents:
            sessions.setdefault(rec.owner, []).append(rec)
    rows = []
    for u in units:
        held = sessions.get(u.id, [])
        rows.append(
            CoverageRow(
                u.id,
                u.code,
                u.name,
                u.depth,
                u.id not in armed,
                len(held),
                min((s.held_on for s in held), default=None),
                sum(s.attended for s in held),
            )
        )
    bound = [r for r in rows if r.bound]
    free = [r for r in rows if not r.bound]
    return Coverage(
        doc.id, len(bound), sum(r.sessions > 0 for r in bound), len(free), sum(r.sessions > 0 for r in free), rows
    )


async def _armed_subtrees(conn: AsyncConnection, units: list[UnitInfo]) -> set[uuid.UUID]:
    """Units that are armed forces or lie below one (D3: the whole armed-forces branch plans its own study)."""
    armed_paths = [r.path for r in await conn.execute(select(UnitRow.path).where(UnitRow.armed_forces.is_(True)))]
    return {u.id for u in units if any(u.path.startswith(p) for p in armed_paths)}


async def channel_totals(
    conn: AsyncConnection, viewer: UnitInfo, from_date: date | None = None, to_date: date | None = None
) -> list[ChannelTotal]:
    """Totals by channel over a unit's subtree, for periods overlapping [from_date, to_date] (D9, D26)."""
    table = PROPAGANDA.table
    base = up_select(PROPAGANDA, viewer).where(table.c.deleted.is_(False))
    if from_date is not None:
        base = base.where(table.c.period_end >= from_date)
    if to_date is not None:
        base = base.where(table.c.period_start <= to_date)
    sub = base.subquery()
    stmt: Any = select(sub.c.channel, func.count(), func.sum(sub.c.count), func.sum(sub.c.reached)).group_by(
        sub.c.channel
    )
    totals = {r[0]: (int(r[1]), int(r[2] or 0), int(r[3] or 0)) for r in await conn.execute(stmt)}
    return [ChannelTotal(c, CHANNEL_LABELS_VI[c], *totals.get(c, (0, 0, 0))) for c in CHANNELS]
