"""The review calendar (D16-D21): milestones and statuses, overrides, term and year plans, projects, held reviews.

The rules, queries and workflow; each function runs in the caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.calendar.records import (
    REVIEW_OVERRIDE,
    REVIEW_REPORT,
    ReviewOverrideRecord,
)
from shared.calendar.schemas import (
    DocumentCalendar,
    MilestoneOut,
    Step,
    UnitReview,
)
from shared.core.errors import Refusal, invalid
from shared.core.scope import (
    Caller,
    UnitInfo,
    down_select,
    records,
    subtree_units,
    unit_in_scope,
    units_info,
)
from shared.documents.records import DocumentRecord
from shared.documents.service import visible_document, visible_documents
from shared.domain.calendar import (
    LEAP_DAY_ASSUMPTION_VI,
    LOWER_LEVEL_ASSUMPTION_VI,
    IssuingLevel,
    Milestone,
    MilestoneStatus,
    ReviewKind,
    ReviewOverride,
    annual_evaluations,
    bottom_up_review_steps,
    milestone_status,
    review_milestones,
)
from shared.domain.docnumbers import parse_document_number
from shared.domain.errors import DocumentNumberError
from shared.domain.tree import UnitKind
from shared.sync.tables import UnitRow

KIND_BY_NAME = {k.name.lower(): k for k in ReviewKind}


STATUS_NAMES = {s: s.name.lower() for s in MilestoneStatus}


REVIEWING_KINDS = (UnitKind.COMMITTEE.value, UnitKind.BASE_ORGANISATION.value)
"""Units expected to hold a review of their own before their parent does (D21); cells report through their base."""


ASSUMPTIONS_VI = (LEAP_DAY_ASSUMPTION_VI, LOWER_LEVEL_ASSUMPTION_VI)


async def _overrides(
    conn: AsyncConnection, viewer: UnitInfo, docs: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[ReviewOverride]]:
    """Overrides of these documents as the viewer holds them; of two for one review the higher level's wins (D17)."""
    if not docs:
        return {}
    table = REVIEW_OVERRIDE.table
    recs: list[ReviewOverrideRecord] = await records(
        conn,
        REVIEW_OVERRIDE,
        down_select(REVIEW_OVERRIDE, viewer).where(table.c.document.in_(docs), table.c.deleted.is_(False)),
    )
    depths = await units_info(conn, list({r.owner for r in recs}))
    chosen: dict[tuple[uuid.UUID, str], ReviewOverrideRecord] = {}
    for rec in recs:
        key = (rec.document, rec.kind)
        held = chosen.get(key)
        if held is None or depths[rec.owner].depth < depths[held.owner].depth:
            chosen[key] = rec
    out_: dict[uuid.UUID, list[ReviewOverride]] = {}
    for (doc, kind), rec in chosen.items():
        out_.setdefault(doc, []).append(
            ReviewOverride(KIND_BY_NAME[kind], rec.due, rec.reason, rec.instructing_document)
        )
    return out_


async def _done(conn: AsyncConnection, unit: UnitInfo, docs: Sequence[uuid.UUID]) -> set[tuple[uuid.UUID, str]]:
    table = REVIEW_REPORT.table
    rows = await conn.execute(
        select(table.c.document, table.c.kind).where(
            table.c.owner == unit.id, table.c.document.in_(docs), table.c.deleted.is_(False)
        )
    )
    return {(r.document, r.kind) for r in rows}


def milestones_of(doc: DocumentRecord, overrides: Sequence[ReviewOverride]) -> tuple[Milestone, Milestone]:
    level = IssuingLevel[doc.level] if doc.level else IssuingLevel.LOWER
    return review_milestones(str(doc.id), doc.signed_on, level, overrides=overrides)


async def _max_depth(conn: AsyncConnection, viewer: UnitInfo) -> int:
    deepest = await conn.scalar(
        select(func.max(UnitRow.depth)).where(
            UnitRow.path.startswith(viewer.path, autoescape=True),
            UnitRow.deleted.is_(False),
            UnitRow.valid_to.is_(None),
        )
    )
    return max(int(deepest) if deepest is not None else viewer.depth, viewer.depth)


async def document_milestones(
    conn: AsyncConnection, viewer: UnitInfo, docs: Sequence[DocumentRecord], today: date
) -> list[MilestoneOut]:
    ids = [d.id for d in docs]
    overrides = await _overrides(conn, viewer, ids)
    done = await _done(conn, viewer, ids)
    owners = await units_info(conn, list({d.owner for d in docs}))
    deepest = await _max_depth(conn, viewer)
    result: list[MilestoneOut] = []
    for doc in docs:
        owner = owners.get(doc.owner)
        top = owner.depth if owner is not None else 0
        for m in milestones_of(doc, overrides.get(doc.id, [])):
            kind = m.kind.name.lower()
            status = milestone_status(m, today=today, done=(doc.id, kind) in done)
            steps = [
                Step(s.depth, s.due)
                for s in bottom_up_review_steps(m.due, range(top, max(deepest, top) + 1), top_depth=top)
            ]
            unit_due = next((s.due for s in steps if s.depth == viewer.depth), m.due)
            result.append(
                MilestoneOut(
                    document=doc.id,
                    document_number=doc.number,
                    kind=kind,
                    kind_vi=m.kind.value,
                    scheduled_due=m.scheduled_due,
                    due=m.due,
                    moved=m.moved,
                    override_reason=m.override.reason if m.override else None,
                    instructing_document=m.override.instructing_document if m.override else None,
                    plan_deadline=m.plan_deadline,
                    cut_off=m.cut_off,
                    status=STATUS_NAMES[status],
                    status_vi=status.value,
                    unit_due=unit_due,
                    steps=steps,
                )
            )
    result.sort(key=lambda m: (m.due, m.document_number, m.kind != "preliminary"))
    return result


def review_kind_field(kind: str, field: str = "kind", what: str = "mốc") -> ReviewKind:
    """The review a `kind` names (sơ kết or tổng kết, D16), else 422 on `field` naming `what` was asked for."""
    if kind not in KIND_BY_NAME:
        raise invalid(
            field,
            "D16",
            f"Loại {what} «{kind}» không hợp lệ; chọn preliminary (sơ kết) hoặc final (tổng kết).",
            f"Unknown review «{kind}»; choose preliminary or final.",
        )
    return KIND_BY_NAME[kind]


def document_number_field(text: str, field: str) -> str:
    try:
        return parse_document_number(text).format()
    except DocumentNumberError as exc:
        raise Refusal.from_domain(exc, field=field, rule="D5a") from None


async def _plan_preview(
    conn: AsyncConnection, caller: Caller, unit: uuid.UUID | None, start: date, end: date
) -> list[MilestoneOut]:
    if end < start:
        raise invalid("end", "D19", "Ngày kết thúc phải sau ngày bắt đầu.", "The end must be after the start.")
    viewer = await unit_in_scope(conn, caller, unit)
    items = await document_milestones(conn, viewer, await visible_documents(conn, viewer), date.today())
    return [m for m in items if start <= m.due <= end]


async def calendar(
    conn: AsyncConnection,
    caller: Caller,
    unit: uuid.UUID | None = None,
    today: date | None = None,
    from_date: date | None = None,
    to_date: date | None = None,
) -> list[MilestoneOut]:
    """Every review of the documents a unit holds, in due order, with its status that day (D16, D17, D20)."""
    viewer = await unit_in_scope(conn, caller, unit)
    items = await document_milestones(conn, viewer, await visible_documents(conn, viewer), today or date.today())
    return [m for m in items if (from_date is None or m.due >= from_date) and (to_date is None or m.due <= to_date)]


async def document_calendar(
    conn: AsyncConnection, caller: Caller, doc_id: uuid.UUID, unit: uuid.UUID | None = None, today: date | None = None
) -> DocumentCalendar:
    """One document's reviews, yearly evaluations (D18) and the assumptions behind the dates (D16)."""
    viewer = await unit_in_scope(conn, caller, unit)
    doc = await visible_document(conn, viewer, doc_id, "doc_id")
    items = await document_milestones(conn, viewer, [doc], today or date.today())
    final = next(m for m in items if m.kind == "final")
    return DocumentCalendar(
        doc.id, doc.level, items, list(annual_evaluations(doc.signed_on, final.due)), list(ASSUMPTIONS_VI)
    )


async def term_plan_preview(
    conn: AsyncConnection, caller: Caller, start: date, end: date, unit: uuid.UUID | None = None
) -> list[MilestoneOut]:
    """Every review falling due in a congress term (D19): what the term plan must contain."""
    return await _plan_preview(conn, caller, unit, start, end)


async def year_plan_preview(
    conn: AsyncConnection, caller: Caller, year: int, unit: uuid.UUID | None = None
) -> list[MilestoneOut]:
    """Every review falling due in a year (D19: the year-end plan for next year)."""
    if not 1900 <= year <= 2200:
        raise invalid("year", "D19", "Năm không hợp lệ.", "Invalid year.")
    return await _plan_preview(conn, caller, unit, date(year, 1, 1), date(year, 12, 31))


async def bottom_up_steps(
    conn: AsyncConnection, caller: Caller, document: uuid.UUID, kind: str = "final", unit: uuid.UUID | None = None
) -> list[UnitReview]:
    """Units of a subtree in the order they review (deepest first, D21), each with its date and whether done."""
    review_kind = review_kind_field(kind)
    viewer = await unit_in_scope(conn, caller, unit)
    doc = await visible_document(conn, viewer, document, "document")
    items = [m for m in await document_milestones(conn, viewer, [doc], date.today()) if m.kind == kind]
    steps = {s.depth: s.due for s in items[0].steps}
    everyone = await subtree_units(conn, viewer)
    armed = [u.path for u in everyone if u.armed_forces]
    # D3: the armed-forces branch reviews under its own guidance, outside this order.
    units = [u for u in everyone if u.kind in REVIEWING_KINDS and not any(u.path.startswith(p) for p in armed)]
    table = REVIEW_REPORT.table
    held = {
        r.owner: r.held_on
        for r in await conn.execute(
            select(table.c.owner, table.c.held_on).where(
                table.c.document == doc.id, table.c.kind == review_kind.name.lower(), table.c.deleted.is_(False)
            )
        )
    }
    ordered = sorted(units, key=lambda u: (-u.depth, u.code))
    return [
        UnitReview(u.id, u.code, u.name, u.depth, steps.get(u.depth, items[0].due), held.get(u.id)) for u in ordered
    ]
