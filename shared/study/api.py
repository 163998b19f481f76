"""Study sessions (D8, D3) and propaganda (D9): entered by the unit that held them, summed up the tree."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.core.errors import invalid
from shared.core.scope import (
    Caller,
    UnitInfo,
    changes_of,
    check_rev,
    get_visible,
    out,
    page,
    records,
    revise,
    save,
    subtree_units,
    unit_in_scope,
    units_info,
    up_select,
    writable_owner,
)
from shared.db.engine import Database
from shared.documents.api import visible_document
from shared.ids import new_id
from shared.study.records import (
    CHANNELS,
    PROPAGANDA,
    SESSION_FORMS,
    STUDY_SESSION,
    PropagandaRecord,
    StudySessionRecord,
)
from shared.sync.tables import UnitRow

CHANNEL_LABELS_VI = {
    "cultural": "Thiết chế văn hóa",
    "loudspeaker": "Loa truyền thanh cấp xã",
    "oral": "Tuyên truyền miệng (báo cáo viên, tuyên truyền viên)",
    "it": "Công nghệ thông tin",
}
FORM_LABELS_VI = {"in_person": "Trực tiếp", "online": "Trực tuyến", "mixed": "Kết hợp"}


class StudySession(msgspec.Struct, frozen=True):
    id: uuid.UUID
    unit: uuid.UUID
    """The organising unit."""
    rev: int
    title: str
    documents: list[uuid.UUID]
    held_on: date
    form: str
    participants: str
    invited: int
    attended: int


class StudySessionCreate(msgspec.Struct, frozen=True):
    title: str
    documents: list[uuid.UUID]
    held_on: date
    form: str
    """in_person, online or mixed (D8)."""
    invited: int
    attended: int
    participants: str = ""
    unit: uuid.UUID | None = None


class StudySessionUpdate(msgspec.Struct, frozen=True):
    rev: int | msgspec.UnsetType = msgspec.UNSET
    title: str | msgspec.UnsetType = msgspec.UNSET
    documents: list[uuid.UUID] | msgspec.UnsetType = msgspec.UNSET
    held_on: date | msgspec.UnsetType = msgspec.UNSET
    form: str | msgspec.UnsetType = msgspec.UNSET
    invited: int | msgspec.UnsetType = msgspec.UNSET
    attended: int | msgspec.UnsetType = msgspec.UNSET
    participants: str | msgspec.UnsetType = msgspec.UNSET


class CoverageRow(msgspec.Struct, frozen=True):
    unit: uuid.UUID
    code: str
    name: str
    depth: int
    bound: bool
    """False for armed-forces units: they study under their own guidance (D3), so not holding one is no shortfall."""
    sessions: int
    first_held_on: date | None
    attended: int


class Coverage(msgspec.Struct, frozen=True):
    document: uuid.UUID
    bound_units: int
    bound_held: int
    armed_forces_units: int
    armed_forces_held: int
    units: list[CoverageRow]


async def _check_session(conn: AsyncConnection, owner: UnitInfo, rec: StudySessionRecord) -> None:
    if not rec.title.strip():
        raise invalid("title", "D8", "Thiếu tên buổi học tập, quán triệt.", "The title is empty.")
    if rec.form not in SESSION_FORMS:
        raise invalid(
            "form",
            "D8",
            f"Hình thức phải là một trong: {', '.join(SESSION_FORMS)} (trực tiếp, trực tuyến, kết hợp).",
            f"form must be one of: {', '.join(SESSION_FORMS)}.",
        )
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


class StudySessionController(Controller):
    path = "/study-sessions"
    tags = ["study"]  # noqa: RUF012

    @get("/")
    async def list_sessions(
        self,
        state: State,
        caller: NamedDependency[Caller],
        unit: FromQuery[uuid.UUID | None] = None,
        after: FromQuery[uuid.UUID | None] = None,
        limit: FromQuery[int] = 200,
    ) -> list[StudySession]:
        """Sessions held in a unit's subtree (the caller's by default)."""
        db: Database = state.db
        async with db.read() as conn:
            viewer = await unit_in_scope(conn, caller, unit)
            stmt = page(up_select(STUDY_SESSION, viewer), STUDY_SESSION, after, limit)
            return [out(r, StudySession) for r in await records(conn, STUDY_SESSION, stmt)]

    @post("/")
    async def create(
        self, state: State, caller: NamedDependency[Caller], data: JSONBody[StudySessionCreate]
    ) -> StudySession:
        """Record a study session (D8); an armed-forces unit records its own on its own schedule (D3)."""
        return await record_session(state.db, caller, data)

    @get("/{session_id:uuid}")
    async def get_session(
        self, state: State, caller: NamedDependency[Caller], session_id: FromPath[uuid.UUID]
    ) -> StudySession:
        db: Database = state.db
        async with db.read() as conn:
            rec = await get_visible(conn, STUDY_SESSION, caller.unit, session_id, down=False, what=_SESSION)
        return out(rec, StudySession)

    @patch("/{session_id:uuid}")
    async def edit(
        self,
        state: State,
        caller: NamedDependency[Caller],
        session_id: FromPath[uuid.UUID],
        data: JSONBody[StudySessionUpdate],
    ) -> StudySession:
        db: Database = state.db
        async with db.write() as conn:
            held: StudySessionRecord = await get_visible(
                conn, STUDY_SESSION, caller.unit, session_id, down=False, what=_SESSION
            )
            owner = await writable_owner(conn, caller, held.owner)
            check_rev(data.rev, held)
            changes = changes_of(data)
            await _check_session(conn, owner, msgspec.structs.replace(held, **changes))
            new = await revise(conn, STUDY_SESSION, caller, held, changes)
        return out(new, StudySession)

    @delete("/{session_id:uuid}", status_code=204)
    async def remove(self, state: State, caller: NamedDependency[Caller], session_id: FromPath[uuid.UUID]) -> None:
        db: Database = state.db
        async with db.write() as conn:
            held = await get_visible(conn, STUDY_SESSION, caller.unit, session_id, down=False, what=_SESSION)
            await revise(conn, STUDY_SESSION, caller, held, {"deleted": True})

    @get("/coverage")
    async def coverage(
        self,
        state: State,
        caller: NamedDependency[Caller],
        document: FromQuery[uuid.UUID],
        unit: FromQuery[uuid.UUID | None] = None,
    ) -> Coverage:
        """Which units of a subtree have held a session on a document (D8); armed-forces units apart (D3)."""
        db: Database = state.db
        async with db.read() as conn:
            viewer = await unit_in_scope(conn, caller, unit)
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


_SESSION = ("buổi học tập", "study session")


async def _armed_subtrees(conn: AsyncConnection, units: list[UnitInfo]) -> set[uuid.UUID]:
    """Units that are armed forces or lie below one (D3: the whole armed-forces branch plans its own study)."""
    armed_paths = [r.path for r in await conn.execute(select(UnitRow.path).where(UnitRow.armed_forces.is_(True)))]
    return {u.id for u in units if any(u.path.startswith(p) for p in armed_paths)}


# Propaganda (D9).


class Propaganda(msgspec.Struct, frozen=True):
    id: uuid.UUID
    unit: uuid.UUID
    rev: int
    channel: str
    document: uuid.UUID | None
    period_start: date
    period_end: date
    count: int
    reached: int
    note: str


class PropagandaCreate(msgspec.Struct, frozen=True):
    channel: str
    """cultural, loudspeaker, oral or it (D9)."""
    period_start: date
    period_end: date
    count: int
    reached: int
    document: uuid.UUID | None = None
    note: str = ""
    unit: uuid.UUID | None = None


class PropagandaUpdate(msgspec.Struct, frozen=True):
    rev: int | msgspec.UnsetType = msgspec.UNSET
    channel: str | msgspec.UnsetType = msgspec.UNSET
    period_start: date | msgspec.UnsetType = msgspec.UNSET
    period_end: date | msgspec.UnsetType = msgspec.UNSET
    count: int | msgspec.UnsetType = msgspec.UNSET
    reached: int | msgspec.UnsetType = msgspec.UNSET
    document: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET
    note: str | msgspec.UnsetType = msgspec.UNSET


class ChannelTotal(msgspec.Struct, frozen=True):
    channel: str
    label_vi: str
    activities: int
    count: int
    reached: int


async def _check_propaganda(conn: AsyncConnection, owner: UnitInfo, rec: PropagandaRecord) -> None:
    if rec.channel not in CHANNELS:
        raise invalid(
            "channel",
            "D9",
            f"Kênh tuyên truyền phải là một trong: {', '.join(CHANNELS)}.",
            f"channel must be one of: {', '.join(CHANNELS)}.",
        )
    for field in ("count", "reached"):
        if getattr(rec, field) < 0:
            raise invalid(field, "D9", "Số lượng không được âm.", f"{field} must not be negative.")
    if rec.period_end < rec.period_start:
        raise invalid("period_end", "D9", "Kỳ báo cáo kết thúc trước khi bắt đầu.", "The period ends before it starts.")
    if rec.document is not None:
        await visible_document(conn, owner, rec.document, "document")


_PROPAGANDA = ("hoạt động tuyên truyền", "propaganda activity")


class PropagandaController(Controller):
    path = "/propaganda"
    tags = ["propaganda"]  # noqa: RUF012

    @get("/")
    async def list_propaganda(
        self,
        state: State,
        caller: NamedDependency[Caller],
        unit: FromQuery[uuid.UUID | None] = None,
        after: FromQuery[uuid.UUID | None] = None,
        limit: FromQuery[int] = 200,
    ) -> list[Propaganda]:
        db: Database = state.db
        async with db.read() as conn:
            viewer = await unit_in_scope(conn, caller, unit)
            stmt = page(up_select(PROPAGANDA, viewer), PROPAGANDA, after, limit)
            return [out(r, Propaganda) for r in await records(conn, PROPAGANDA, stmt)]

    @post("/")
    async def create(
        self, state: State, caller: NamedDependency[Caller], data: JSONBody[PropagandaCreate]
    ) -> Propaganda:
        """Record propaganda by channel, with count and audience reached (D9)."""
        return await record_propaganda(state.db, caller, data)

    @patch("/{item_id:uuid}")
    async def edit(
        self,
        state: State,
        caller: NamedDependency[Caller],
        item_id: FromPath[uuid.UUID],
        data: JSONBody[PropagandaUpdate],
    ) -> Propaganda:
        db: Database = state.db
        async with db.write() as conn:
            held: PropagandaRecord = await get_visible(
                conn, PROPAGANDA, caller.unit, item_id, down=False, what=_PROPAGANDA
            )
            owner = await writable_owner(conn, caller, held.owner)
            check_rev(data.rev, held)
            changes = changes_of(data)
            await _check_propaganda(conn, owner, msgspec.structs.replace(held, **changes))
            new = await revise(conn, PROPAGANDA, caller, held, changes)
        return out(new, Propaganda)

    @delete("/{item_id:uuid}", status_code=204)
    async def remove(self, state: State, caller: NamedDependency[Caller], item_id: FromPath[uuid.UUID]) -> None:
        db: Database = state.db
        async with db.write() as conn:
            held = await get_visible(conn, PROPAGANDA, caller.unit, item_id, down=False, what=_PROPAGANDA)
            await revise(conn, PROPAGANDA, caller, held, {"deleted": True})

    @get("/summary")
    async def summary(
        self,
        state: State,
        caller: NamedDependency[Caller],
        unit: FromQuery[uuid.UUID | None] = None,
        from_date: FromQuery[date | None] = None,
        to_date: FromQuery[date | None] = None,
    ) -> list[ChannelTotal]:
        """Totals by channel over a unit's subtree, for periods overlapping [from_date, to_date] (D9, D26)."""
        db: Database = state.db
        table = PROPAGANDA.table
        async with db.read() as conn:
            viewer = await unit_in_scope(conn, caller, unit)
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


async def record_session(db: Database, caller: Caller, data: StudySessionCreate) -> StudySession:
    """Record a study session (D8); an armed-forces unit records its own on its own schedule (D3)."""
    async with db.write() as conn:
        owner = await writable_owner(conn, caller, data.unit or caller.unit.id)
        rec = StudySessionRecord(
            id=new_id(),
            owner=owner.id,
            audience=None,
            rev=1,
            deleted=False,
            title=data.title.strip(),
            documents=list(dict.fromkeys(data.documents)),
            held_on=data.held_on,
            form=data.form,
            participants=data.participants.strip(),
            invited=data.invited,
            attended=data.attended,
        )
        await _check_session(conn, owner, rec)
        await save(conn, STUDY_SESSION, rec)
    return out(rec, StudySession)


async def record_propaganda(db: Database, caller: Caller, data: PropagandaCreate) -> Propaganda:
    """Record propaganda by channel, with count and audience reached (D9)."""
    async with db.write() as conn:
        owner = await writable_owner(conn, caller, data.unit or caller.unit.id)
        rec = PropagandaRecord(
            id=new_id(),
            owner=owner.id,
            audience=None,
            rev=1,
            deleted=False,
            channel=data.channel,
            document=data.document,
            period_start=data.period_start,
            period_end=data.period_end,
            count=data.count,
            reached=data.reached,
            note=data.note.strip(),
        )
        await _check_propaganda(conn, owner, rec)
        await save(conn, PROPAGANDA, rec)
    return out(rec, Propaganda)
