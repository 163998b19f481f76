"""The review calendar (D16-D21): milestones and statuses, overrides, term and year plans, projects, held reviews."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.calendar.records import (
    PLAN_KINDS,
    REVIEW_OVERRIDE,
    REVIEW_PLAN,
    REVIEW_PROJECT,
    REVIEW_REPORT,
    PlanItem,
    ReviewOverrideRecord,
    ReviewPlanRecord,
    ReviewProjectRecord,
    ReviewReportRecord,
)
from shared.core.errors import Refusal, invalid
from shared.core.scope import (
    Caller,
    UnitInfo,
    changes_of,
    check_rev,
    down_select,
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
from shared.documents.records import DOCUMENT, DocumentRecord
from shared.domain.calendar import (
    LEAP_DAY_ASSUMPTION_VI,
    LOWER_LEVEL_ASSUMPTION_VI,
    IssuingLevel,
    Milestone,
    MilestoneStatus,
    ReviewKind,
    ReviewOverride,
    add_full_years,
    annual_evaluations,
    bottom_up_review_steps,
    milestone_status,
    review_milestones,
)
from shared.domain.docnumbers import parse_document_number
from shared.domain.errors import DocumentNumberError, ScheduleError
from shared.domain.tree import UnitKind
from shared.ids import new_id
from shared.sync.tables import UnitRow

KIND_BY_NAME = {k.name.lower(): k for k in ReviewKind}
STATUS_NAMES = {s: s.name.lower() for s in MilestoneStatus}
REVIEWING_KINDS = (UnitKind.COMMITTEE.value, UnitKind.BASE_ORGANISATION.value)
"""Units expected to hold a review of their own before their parent does (D21); cells report through their base."""
ASSUMPTIONS_VI = (LEAP_DAY_ASSUMPTION_VI, LOWER_LEVEL_ASSUMPTION_VI)


class Step(msgspec.Struct, frozen=True):
    depth: int
    due: date


class MilestoneOut(msgspec.Struct, frozen=True):
    document: uuid.UUID
    document_number: str
    kind: str
    """`preliminary` (sơ kết) or `final` (tổng kết)."""
    kind_vi: str
    scheduled_due: date
    """From the rule table (D16)."""
    due: date
    """After any override (D17)."""
    moved: bool
    override_reason: str | None
    instructing_document: str | None
    plan_deadline: date
    """D20: the plan must be issued by this day (2 months before the due date)."""
    cut_off: date
    """D20: figures count up to this day."""
    status: str
    """upcoming, plan_due, overdue or done, for the unit asked about."""
    status_vi: str
    unit_due: date
    """When the unit asked about holds its review: base units first, each level up later (D21)."""
    steps: list[Step]


class DocumentCalendar(msgspec.Struct, frozen=True):
    document: uuid.UUID
    level: str
    milestones: list[MilestoneOut]
    annual_evaluations: list[date]
    """D18: the yearly evaluations while the document is in force."""
    assumptions: list[str]


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


async def _visible_docs(conn: AsyncConnection, viewer: UnitInfo) -> list[DocumentRecord]:
    table = DOCUMENT.table
    return await records(conn, DOCUMENT, down_select(DOCUMENT, viewer).where(table.c.deleted.is_(False)))


def _kind_field(kind: str, field: str = "kind") -> ReviewKind:
    if kind not in KIND_BY_NAME:
        raise invalid(
            field,
            "D16",
            f"Loại mốc «{kind}» không hợp lệ; chọn preliminary (sơ kết) hoặc final (tổng kết).",
            f"Unknown review «{kind}»; choose preliminary or final.",
        )
    return KIND_BY_NAME[kind]


def _doc_number(text: str, field: str) -> str:
    try:
        return parse_document_number(text).format()
    except DocumentNumberError as exc:
        raise Refusal.from_domain(exc, field=field, rule="D5a") from None


class CalendarController(Controller):
    path = "/calendar"
    tags = ["review calendar"]  # noqa: RUF012

    @get("/")
    async def calendar(
        self,
        state: State,
        caller: NamedDependency[Caller],
        unit: FromQuery[uuid.UUID | None] = None,
        today: FromQuery[date | None] = None,
        from_date: FromQuery[date | None] = None,
        to_date: FromQuery[date | None] = None,
    ) -> list[MilestoneOut]:
        """Every review of the documents a unit holds, in due order, with its status that day (D16, D17, D20)."""
        db: Database = state.db
        async with db.read() as conn:
            viewer = await unit_in_scope(conn, caller, unit)
            items = await document_milestones(conn, viewer, await _visible_docs(conn, viewer), today or date.today())
        return [m for m in items if (from_date is None or m.due >= from_date) and (to_date is None or m.due <= to_date)]

    @get("/documents/{doc_id:uuid}")
    async def document_calendar(
        self,
        state: State,
        caller: NamedDependency[Caller],
        doc_id: FromPath[uuid.UUID],
        unit: FromQuery[uuid.UUID | None] = None,
        today: FromQuery[date | None] = None,
    ) -> DocumentCalendar:
        """One document's reviews, yearly evaluations (D18) and the assumptions behind the dates (D16)."""
        db: Database = state.db
        async with db.read() as conn:
            viewer = await unit_in_scope(conn, caller, unit)
            doc = await visible_document(conn, viewer, doc_id, "doc_id")
            items = await document_milestones(conn, viewer, [doc], today or date.today())
        final = next(m for m in items if m.kind == "final")
        return DocumentCalendar(
            doc.id, doc.level, items, list(annual_evaluations(doc.signed_on, final.due)), list(ASSUMPTIONS_VI)
        )

    @get("/term-plan")
    async def term_plan_preview(
        self,
        state: State,
        caller: NamedDependency[Caller],
        start: FromQuery[date],
        end: FromQuery[date],
        unit: FromQuery[uuid.UUID | None] = None,
    ) -> list[MilestoneOut]:
        """Every review falling due in a congress term (D19): what the term plan must contain."""
        return await _plan_preview(state.db, caller, unit, start, end)

    @get("/year-plan")
    async def year_plan_preview(
        self,
        state: State,
        caller: NamedDependency[Caller],
        year: FromQuery[int],
        unit: FromQuery[uuid.UUID | None] = None,
    ) -> list[MilestoneOut]:
        """Every review falling due in a year (D19: the year-end plan for next year)."""
        if not 1900 <= year <= 2200:
            raise invalid("year", "D19", "Năm không hợp lệ.", "Invalid year.")
        return await _plan_preview(state.db, caller, unit, date(year, 1, 1), date(year, 12, 31))

    @get("/bottom-up")
    async def bottom_up(
        self,
        state: State,
        caller: NamedDependency[Caller],
        document: FromQuery[uuid.UUID],
        kind: FromQuery[str] = "final",
        unit: FromQuery[uuid.UUID | None] = None,
    ) -> list[UnitReview]:
        """Units of a subtree in the order they review (deepest first, D21), each with its date and whether done."""
        review_kind = _kind_field(kind)
        db: Database = state.db
        async with db.read() as conn:
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


class UnitReview(msgspec.Struct, frozen=True):
    unit: uuid.UUID
    code: str
    name: str
    depth: int
    due: date
    held_on: date | None


async def _plan_preview(
    db: Database, caller: Caller, unit: uuid.UUID | None, start: date, end: date
) -> list[MilestoneOut]:
    if end < start:
        raise invalid("end", "D19", "Ngày kết thúc phải sau ngày bắt đầu.", "The end must be after the start.")
    async with db.read() as conn:
        viewer = await unit_in_scope(conn, caller, unit)
        items = await document_milestones(conn, viewer, await _visible_docs(conn, viewer), date.today())
    return [m for m in items if start <= m.due <= end]


# Overrides (D17): a committee moves a review of its own documents or of those below it.


class Override(msgspec.Struct, frozen=True):
    id: uuid.UUID
    unit: uuid.UUID
    rev: int
    document: uuid.UUID
    kind: str
    due: date
    reason: str
    instructing_document: str


class OverrideCreate(msgspec.Struct, frozen=True):
    document: uuid.UUID
    kind: str
    due: date
    reason: str
    instructing_document: str
    """Number of the directing document, e.g. `12-CV/TU` (D5a)."""
    unit: uuid.UUID | None = None


class OverrideUpdate(msgspec.Struct, frozen=True):
    rev: int | msgspec.UnsetType = msgspec.UNSET
    due: date | msgspec.UnsetType = msgspec.UNSET
    reason: str | msgspec.UnsetType = msgspec.UNSET
    instructing_document: str | msgspec.UnsetType = msgspec.UNSET


async def _check_override(conn: AsyncConnection, owner: UnitInfo, rec: ReviewOverrideRecord) -> ReviewOverrideRecord:
    kind = _kind_field(rec.kind)
    doc = await visible_document(conn, owner, rec.document, "document")
    doc_owner = (await units_info(conn, [doc.owner])).get(doc.owner)
    if doc_owner is None or not owner.covers(doc_owner):
        raise invalid(
            "document",
            "D17",
            "Chỉ cấp ban hành văn bản hoặc cấp trên của cấp đó mới điều chỉnh được mốc sơ kết, tổng kết.",
            "Only the issuing level or a level above it may move a review.",
        )
    number = _doc_number(rec.instructing_document, "instructing_document")
    try:
        override = ReviewOverride(kind, rec.due, rec.reason, number)
        others = [o for o in (await _overrides(conn, owner, [doc.id])).get(doc.id, []) if o.kind is not kind]
        milestones_of(doc, [override, *others])
    except ScheduleError as exc:
        field = {"override.reason": "reason", "override.instructing_document": "instructing_document"}.get(
            exc.code, "due"
        )
        raise Refusal.from_domain(exc, field=field, rule="D17") from None
    return msgspec.structs.replace(rec, instructing_document=number, reason=rec.reason.strip())


class OverrideController(Controller):
    path = "/review-overrides"
    tags = ["review calendar"]  # noqa: RUF012

    @get("/")
    async def list_overrides(
        self, state: State, caller: NamedDependency[Caller], document: FromQuery[uuid.UUID | None] = None
    ) -> list[Override]:
        db: Database = state.db
        table = REVIEW_OVERRIDE.table
        async with db.read() as conn:
            stmt = down_select(REVIEW_OVERRIDE, caller.unit).where(table.c.deleted.is_(False))
            if document is not None:
                stmt = stmt.where(table.c.document == document)
            return [out(r, Override) for r in await records(conn, REVIEW_OVERRIDE, stmt.order_by(table.c.id))]

    @post("/", opt={"role": "admin"})
    async def create(self, state: State, caller: NamedDependency[Caller], data: JSONBody[OverrideCreate]) -> Override:
        """Move a review earlier or later, with its reason and the directing document (D17); a committee decision."""
        db: Database = state.db
        table = REVIEW_OVERRIDE.table
        async with db.write() as conn:
            owner = await writable_owner(conn, caller, data.unit or caller.unit.id)
            rec = ReviewOverrideRecord(
                id=new_id(),
                owner=owner.id,
                audience=owner.id,
                rev=1,
                deleted=False,
                document=data.document,
                kind=data.kind,
                due=data.due,
                reason=data.reason,
                instructing_document=data.instructing_document,
            )
            rec = await _check_override(conn, owner, rec)
            clash = (
                await conn.execute(
                    select(table.c.id).where(
                        table.c.owner == owner.id,
                        table.c.document == rec.document,
                        table.c.kind == rec.kind,
                        table.c.deleted.is_(False),
                    )
                )
            ).first()
            if clash is not None:
                raise Refusal(
                    409,
                    "override.duplicate",
                    "Mốc này đã được điều chỉnh; hãy sửa điều chỉnh đã có.",
                    "This review is already moved; edit the existing override.",
                    field="kind",
                    rule="D17",
                )
            await save(conn, REVIEW_OVERRIDE, rec)
        return out(rec, Override)

    @patch("/{override_id:uuid}", opt={"role": "admin"})
    async def edit(
        self,
        state: State,
        caller: NamedDependency[Caller],
        override_id: FromPath[uuid.UUID],
        data: JSONBody[OverrideUpdate],
    ) -> Override:
        db: Database = state.db
        async with db.write() as conn:
            held: ReviewOverrideRecord = await get_visible(
                conn, REVIEW_OVERRIDE, caller.unit, override_id, down=True, what=("điều chỉnh", "override")
            )
            owner = await writable_owner(conn, caller, held.owner)
            check_rev(data.rev, held)
            checked = await _check_override(conn, owner, msgspec.structs.replace(held, **changes_of(data)))
            new = await revise(
                conn,
                REVIEW_OVERRIDE,
                caller,
                held,
                {"due": checked.due, "reason": checked.reason, "instructing_document": checked.instructing_document},
            )
        return out(new, Override)

    @delete("/{override_id:uuid}", status_code=204, opt={"role": "admin"})
    async def remove(self, state: State, caller: NamedDependency[Caller], override_id: FromPath[uuid.UUID]) -> None:
        """Withdraw an override: the review falls back on the date the rule gives."""
        db: Database = state.db
        async with db.write() as conn:
            held = await get_visible(
                conn, REVIEW_OVERRIDE, caller.unit, override_id, down=True, what=("điều chỉnh", "override")
            )
            await revise(conn, REVIEW_OVERRIDE, caller, held, {"deleted": True})


# Plans (D19, D20): the term plan, the year-end plan for next year, reviews added during the year.


class Plan(msgspec.Struct, frozen=True):
    id: uuid.UUID
    unit: uuid.UUID
    rev: int
    plan_kind: str
    number: str
    issued_on: date
    period_start: date
    period_end: date
    items: list[PlanItem]
    late: list[str]
    """What the plan was issued late for: the term's first year, the year before, or 2 months before a review (D19,
    D20). Empty when on time."""


class PlanCreate(msgspec.Struct, frozen=True):
    plan_kind: str
    """`term`, `year` or `addition`."""
    number: str
    issued_on: date
    period_start: date | None = None
    """Term plans: the congress term's first day."""
    period_end: date | None = None
    year: int | None = None
    """Year plans: the year the plan is for."""
    items: list[PlanItem] = msgspec.field(default_factory=list)
    """Additions: the reviews added. Term and year plans take every review due in the period."""
    unit: uuid.UUID | None = None


def plan_lateness(rec: ReviewPlanRecord) -> list[str]:
    late: list[str] = []
    if rec.plan_kind == "term" and rec.issued_on >= add_full_years(rec.period_start, 1):
        late.append(
            "D19: kế hoạch nhiệm kỳ ban hành sau năm đầu nhiệm kỳ / term plan issued after the term's first year"
        )
    if rec.plan_kind == "year" and rec.issued_on.year >= rec.period_start.year:
        late.append("D19: kế hoạch năm ban hành sau cuối năm trước / year plan issued after the end of the year before")
    for item in rec.items:
        deadline = Milestone("", KIND_BY_NAME[item.kind], item.due).plan_deadline
        if rec.issued_on > deadline:
            late.append(
                f"D20: {item.document} {item.kind} — hạn ban hành kế hoạch / plan deadline {deadline.isoformat()}"
            )
    return late


def plan_out(rec: ReviewPlanRecord) -> Plan:
    return out(rec, Plan, late=plan_lateness(rec))


class PlanController(Controller):
    path = "/review-plans"
    tags = ["review calendar"]  # noqa: RUF012

    @get("/")
    async def list_plans(self, state: State, caller: NamedDependency[Caller]) -> list[Plan]:
        """Plans of the caller's committee and of the levels above it (plans travel down)."""
        db: Database = state.db
        table = REVIEW_PLAN.table
        async with db.read() as conn:
            stmt = down_select(REVIEW_PLAN, caller.unit).where(table.c.deleted.is_(False)).order_by(table.c.issued_on)
            return [plan_out(r) for r in await records(conn, REVIEW_PLAN, stmt)]

    @get("/{plan_id:uuid}")
    async def get_plan(self, state: State, caller: NamedDependency[Caller], plan_id: FromPath[uuid.UUID]) -> Plan:
        db: Database = state.db
        async with db.read() as conn:
            return plan_out(
                await get_visible(conn, REVIEW_PLAN, caller.unit, plan_id, down=True, what=("kế hoạch", "plan"))
            )

    @post("/", opt={"role": "admin"})
    async def create(self, state: State, caller: NamedDependency[Caller], data: JSONBody[PlanCreate]) -> Plan:
        """Issue a plan of reviews (D19); term and year plans list every review due in their period."""
        if data.plan_kind not in PLAN_KINDS:
            raise invalid(
                "plan_kind",
                "D19",
                f"Loại kế hoạch phải là một trong: {', '.join(PLAN_KINDS)}.",
                f"plan_kind must be one of: {', '.join(PLAN_KINDS)}.",
            )
        number = _doc_number(data.number, "number")
        if data.plan_kind == "year":
            if data.year is None or not 1900 <= data.year <= 2200:
                raise invalid("year", "D19", "Kế hoạch năm cần năm áp dụng.", "A year plan needs its year.")
            start, end = date(data.year, 1, 1), date(data.year, 12, 31)
        elif data.plan_kind == "term":
            if data.period_start is None:
                raise invalid(
                    "period_start",
                    "D19",
                    "Kế hoạch nhiệm kỳ cần ngày bắt đầu nhiệm kỳ.",
                    "A term plan needs the term's start.",
                )
            start = data.period_start
            end = data.period_end or add_full_years(start, 5)
        else:
            start = data.period_start or data.issued_on
            end = data.period_end or date(data.issued_on.year, 12, 31)
        if end < start:
            raise invalid(
                "period_end", "D19", "Kỳ kế hoạch kết thúc trước khi bắt đầu.", "The period ends before it starts."
            )
        db: Database = state.db
        async with db.write() as conn:
            owner = await writable_owner(conn, caller, data.unit or caller.unit.id)
            milestones = await document_milestones(conn, owner, await _visible_docs(conn, owner), data.issued_on)
            if data.plan_kind == "addition":
                if not data.items:
                    raise invalid(
                        "items",
                        "D19",
                        "Kế hoạch bổ sung cần ít nhất một mốc.",
                        "An addition needs at least one review.",
                    )
                by_key = {(m.document, m.kind): m for m in milestones}
                items = []
                for i, item in enumerate(data.items):
                    _kind_field(item.kind, f"items[{i}].kind")
                    found = by_key.get((item.document, item.kind))
                    if found is None:
                        raise invalid(
                            f"items[{i}].document",
                            "D19",
                            "Văn bản không có hoặc không được gửi đến đơn vị này.",
                            "The document is unknown here.",
                        )
                    items.append(PlanItem(item.document, item.kind, found.due))
            else:
                items = [PlanItem(m.document, m.kind, m.due) for m in milestones if start <= m.due <= end]
            rec = ReviewPlanRecord(
                id=new_id(),
                owner=owner.id,
                audience=owner.id,
                rev=1,
                deleted=False,
                plan_kind=data.plan_kind,
                number=number,
                issued_on=data.issued_on,
                period_start=start,
                period_end=end,
                items=items,
            )
            await save(conn, REVIEW_PLAN, rec)
        return plan_out(rec)


# Review projects (D21) and held reviews.


class Project(msgspec.Struct, frozen=True):
    id: uuid.UUID
    unit: uuid.UUID
    rev: int
    document: uuid.UUID
    kind: str
    title: str
    proposed_on: date
    approved_on: date | None


class ProjectCreate(msgspec.Struct, frozen=True):
    document: uuid.UUID
    kind: str
    title: str
    proposed_on: date
    unit: uuid.UUID | None = None


class ProjectUpdate(msgspec.Struct, frozen=True):
    rev: int | msgspec.UnsetType = msgspec.UNSET
    title: str | msgspec.UnsetType = msgspec.UNSET
    approved_on: date | msgspec.UnsetType | None = msgspec.UNSET


class ProjectController(Controller):
    path = "/review-projects"
    tags = ["review calendar"]  # noqa: RUF012

    @get("/")
    async def list_projects(
        self,
        state: State,
        caller: NamedDependency[Caller],
        after: FromQuery[uuid.UUID | None] = None,
        limit: FromQuery[int] = 200,
    ) -> list[Project]:
        """Review projects proposed in the caller's subtree."""
        db: Database = state.db
        async with db.read() as conn:
            stmt = page(up_select(REVIEW_PROJECT, caller.unit), REVIEW_PROJECT, after, limit)
            return [out(r, Project) for r in await records(conn, REVIEW_PROJECT, stmt)]

    @post("/")
    async def create(self, state: State, caller: NamedDependency[Caller], data: JSONBody[ProjectCreate]) -> Project:
        """The lead agency proposes a review project (đề án) to its committee (D21)."""
        _kind_field(data.kind)
        if not data.title.strip():
            raise invalid("title", "D21", "Thiếu tên đề án.", "The title is empty.")
        db: Database = state.db
        async with db.write() as conn:
            owner = await writable_owner(conn, caller, data.unit or caller.unit.id)
            await visible_document(conn, owner, data.document, "document")
            rec = ReviewProjectRecord(
                id=new_id(),
                owner=owner.id,
                audience=None,
                rev=1,
                deleted=False,
                document=data.document,
                kind=data.kind,
                title=data.title.strip(),
                proposed_on=data.proposed_on,
            )
            await save(conn, REVIEW_PROJECT, rec)
        return out(rec, Project)

    @patch("/{project_id:uuid}")
    async def edit(
        self,
        state: State,
        caller: NamedDependency[Caller],
        project_id: FromPath[uuid.UUID],
        data: JSONBody[ProjectUpdate],
    ) -> Project:
        """Rename a project or record the committee's approval."""
        db: Database = state.db
        async with db.write() as conn:
            held: ReviewProjectRecord = await get_visible(
                conn, REVIEW_PROJECT, caller.unit, project_id, down=False, what=("đề án", "project")
            )
            check_rev(data.rev, held)
            changes = changes_of(data)
            approved = changes.get("approved_on")
            if isinstance(approved, date) and approved < held.proposed_on:
                raise invalid("approved_on", "D21", "Ngày phê duyệt trước ngày đề xuất.", "Approved before proposed.")
            new = await revise(conn, REVIEW_PROJECT, caller, held, changes)
        return out(new, Project)


class ReviewHeld(msgspec.Struct, frozen=True):
    id: uuid.UUID
    unit: uuid.UUID
    rev: int
    document: uuid.UUID
    kind: str
    held_on: date
    cut_off: date
    report_number: str
    waived_reason: str


class ReviewHeldCreate(msgspec.Struct, frozen=True):
    document: uuid.UUID
    kind: str
    held_on: date
    report_number: str = ""
    waived_reason: str = ""
    """Why the review is recorded before every unit below has held its own (D21)."""
    unit: uuid.UUID | None = None


class ReviewReportController(Controller):
    path = "/review-reports"
    tags = ["review calendar"]  # noqa: RUF012

    @get("/")
    async def list_reports(
        self,
        state: State,
        caller: NamedDependency[Caller],
        document: FromQuery[uuid.UUID | None] = None,
        after: FromQuery[uuid.UUID | None] = None,
        limit: FromQuery[int] = 200,
    ) -> list[ReviewHeld]:
        """Reviews held in the caller's subtree."""
        db: Database = state.db
        async with db.read() as conn:
            stmt = up_select(REVIEW_REPORT, caller.unit)
            if document is not None:
                stmt = stmt.where(REVIEW_REPORT.table.c.document == document)
            return [
                out(r, ReviewHeld) for r in await records(conn, REVIEW_REPORT, page(stmt, REVIEW_REPORT, after, limit))
            ]

    @post("/")
    async def create(
        self, state: State, caller: NamedDependency[Caller], data: JSONBody[ReviewHeldCreate]
    ) -> ReviewHeld:
        """Record that a unit held its review: the milestone is done for it (D16); refused while units below it have
        not held theirs, unless a reason is given (D21)."""
        _kind_field(data.kind)
        report_number = _doc_number(data.report_number, "report_number") if data.report_number.strip() else ""
        db: Database = state.db
        table = REVIEW_REPORT.table
        async with db.write() as conn:
            owner = await writable_owner(conn, caller, data.unit or caller.unit.id)
            doc = await visible_document(conn, owner, data.document, "document")
            milestone = next(
                m for m in await document_milestones(conn, owner, [doc], data.held_on) if m.kind == data.kind
            )
            dup = (
                await conn.execute(
                    select(table.c.id).where(
                        table.c.owner == owner.id,
                        table.c.document == doc.id,
                        table.c.kind == data.kind,
                        table.c.deleted.is_(False),
                    )
                )
            ).first()
            if dup is not None:
                raise Refusal(
                    409,
                    "review.duplicate",
                    "Đơn vị đã ghi nhận sơ kết/tổng kết này.",
                    "This review is already recorded.",
                    field="kind",
                    rule="D16",
                )
            children = [
                u
                for u in await subtree_units(conn, owner)
                if u.parent == owner.id and u.kind in REVIEWING_KINDS and not u.armed_forces
            ]
            held = (
                {
                    r.owner
                    for r in await conn.execute(
                        select(table.c.owner).where(
                            table.c.document == doc.id,
                            table.c.kind == data.kind,
                            table.c.deleted.is_(False),
                            table.c.owner.in_([c.id for c in children]),
                        )
                    )
                }
                if children
                else set()
            )
            missing = [c for c in children if c.id not in held]
            if missing and not data.waived_reason.strip():
                codes = ", ".join(c.code for c in missing[:20]) + (" ..." if len(missing) > 20 else "")
                raise Refusal(
                    409,
                    "review.children_first",
                    f"Cấp dưới chưa sơ kết/tổng kết ({len(missing)}: {codes}); cơ sở làm trước, rồi đến cấp trên. "
                    "Nếu vẫn ghi nhận, hãy nêu lý do (waived_reason).",
                    f"Units below have not held their review ({len(missing)}: {codes}); base units go first. "
                    "Give waived_reason to record it anyway.",
                    field="waived_reason",
                    rule="D21",
                )
            rec = ReviewReportRecord(
                id=new_id(),
                owner=owner.id,
                audience=None,
                rev=1,
                deleted=False,
                document=doc.id,
                kind=data.kind,
                held_on=data.held_on,
                cut_off=milestone.cut_off,
                report_number=report_number,
                waived_reason=data.waived_reason.strip(),
            )
            await save(conn, REVIEW_REPORT, rec)
        return out(rec, ReviewHeld)

    @delete("/{report_id:uuid}", status_code=204)
    async def remove(self, state: State, caller: NamedDependency[Caller], report_id: FromPath[uuid.UUID]) -> None:
        """Withdraw a review recorded by mistake."""
        db: Database = state.db
        async with db.write() as conn:
            held = await get_visible(conn, REVIEW_REPORT, caller.unit, report_id, down=False, what=("sơ kết", "review"))
            await revise(conn, REVIEW_REPORT, caller, held, {"deleted": True})
