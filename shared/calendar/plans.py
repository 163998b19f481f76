"""Review overrides (D17), term and year plans (D19, D20), review projects (D21) and held reviews: their checks
and writes, each in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import msgspec
from sqlalchemy import select
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
from shared.calendar.schemas import (
    Override,
    OverrideCreate,
    OverrideUpdate,
    Plan,
    PlanCreate,
    PlanUpdate,
    Project,
    ProjectCreate,
    ProjectUpdate,
    ReviewHeld,
    ReviewHeldCreate,
)
from shared.calendar.service import (
    KIND_BY_NAME,
    REVIEWING_KINDS,
    _overrides,
    document_milestones,
    document_number_field,
    milestones_of,
    review_kind_field,
)
from shared.core.errors import Refusal, check_one_of, conflict, invalid
from shared.core.scope import (
    Caller,
    UnitInfo,
    changes_of,
    check_rev,
    down_select,
    get_visible,
    out,
    records,
    save,
    subtree_units,
    units_info,
    writable_owner,
)
from shared.core.service import RecordKind, RecordService, Shapes, another_live, new_record
from shared.documents.service import visible_document, visible_documents
from shared.domain.calendar import (
    Milestone,
    ReviewOverride,
    add_full_years,
)
from shared.domain.errors import ScheduleError


async def _check_override(conn: AsyncConnection, owner: UnitInfo, rec: ReviewOverrideRecord) -> ReviewOverrideRecord:
    kind = review_kind_field(rec.kind)
    doc = await visible_document(conn, owner, rec.document, "document")
    doc_owner = (await units_info(conn, [doc.owner])).get(doc.owner)
    if doc_owner is None or not owner.covers(doc_owner):
        raise invalid(
            "document",
            "D17",
            "Chỉ cấp ban hành văn bản hoặc cấp trên của cấp đó mới điều chỉnh được mốc sơ kết, tổng kết.",
            "Only the issuing level or a level above it may move a review.",
        )
    number = document_number_field(rec.instructing_document, "instructing_document")
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


async def _check_one_override(
    conn: AsyncConnection, owner: UnitInfo, rec: ReviewOverrideRecord
) -> ReviewOverrideRecord:
    checked = await _check_override(conn, owner, rec)
    if await another_live(conn, REVIEW_OVERRIDE, rec, owner=owner.id, document=rec.document, kind=rec.kind):
        raise conflict(
            "kind",
            "D17",
            "Mốc này đã được điều chỉnh; hãy sửa điều chỉnh đã có.",
            "This review is already moved; edit the existing override.",
            code="override.duplicate",
        )
    return checked


OVERRIDES: RecordService[ReviewOverrideRecord] = RecordService(
    RecordKind(
        REVIEW_OVERRIDE, ("điều chỉnh", "override"), _check_one_override, down=True, audience_of=lambda d, o: o.id
    ),
    Shapes(Override, OverrideCreate, OverrideUpdate),
)
"""Overrides travel down with the document they move (D17); a committee's decision, so writes are admin's."""


async def list_overrides(conn: AsyncConnection, caller: Caller, document: uuid.UUID | None = None) -> list[Override]:
    where = [] if document is None else [REVIEW_OVERRIDE.table.c.document == document]
    return [out(r, Override) for r in await OVERRIDES.list_all(conn, caller, where=where)]


async def create_override(conn: AsyncConnection, caller: Caller, data: OverrideCreate) -> Override:
    """Move a review earlier or later, with its reason and the directing document (D17); a committee decision."""
    return out(await OVERRIDES.create(conn, caller, data), Override)


async def edit_override(
    conn: AsyncConnection, caller: Caller, override_id: uuid.UUID, data: OverrideUpdate
) -> Override:
    return out(await OVERRIDES.revise(conn, caller, override_id, data), Override)


async def list_plans(conn: AsyncConnection, caller: Caller) -> list[Plan]:
    """Plans of the caller's committee and of the levels above it (plans travel down)."""
    table = REVIEW_PLAN.table
    stmt = down_select(REVIEW_PLAN, caller.unit).where(table.c.deleted.is_(False)).order_by(table.c.issued_on)
    return [plan_out(r) for r in await records(conn, REVIEW_PLAN, stmt)]


PLAN_WHAT = ("kế hoạch", "plan")


async def get_plan(conn: AsyncConnection, caller: Caller, plan_id: uuid.UUID) -> Plan:
    return plan_out(await get_visible(conn, REVIEW_PLAN, caller.unit, plan_id, down=True, what=PLAN_WHAT))


def _plan_kind_field(plan_kind: str) -> str:
    check_one_of(plan_kind, PLAN_KINDS, "plan_kind", "D19", "Loại kế hoạch")
    return plan_kind


def _period(data: PlanCreate) -> tuple[date, date]:
    """The period a plan covers (D19): a year plan its year, a term plan five full years from the term's start."""
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
    return start, end


async def _planned(conn: AsyncConnection, owner: UnitInfo, data: PlanCreate, start: date, end: date) -> dict[str, Any]:
    """A plan's fields as the calendar gives them: every review due in a term or year, or the reviews added (D19)."""
    milestones = await document_milestones(conn, owner, await visible_documents(conn, owner), data.issued_on)
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
            review_kind_field(item.kind, f"items[{i}].kind")
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
    return {
        "number": document_number_field(data.number, "number"),
        "issued_on": data.issued_on,
        "period_start": start,
        "period_end": end,
        "items": items,
    }


async def create_plan(conn: AsyncConnection, caller: Caller, data: PlanCreate) -> Plan:
    """Issue a plan of reviews (D19); term and year plans list every review due in their period."""
    _plan_kind_field(data.plan_kind)
    document_number_field(data.number, "number")
    start, end = _period(data)
    owner = await writable_owner(conn, caller, data.unit or caller.unit.id)
    fields = await _planned(conn, owner, data, start, end)
    rec = new_record(ReviewPlanRecord, owner.id, owner.id, plan_kind=data.plan_kind, **fields)
    await save(conn, REVIEW_PLAN, rec)
    return plan_out(rec)


def _fixed(field: str, vi: str, en: str) -> Refusal:
    return Refusal(422, "plan.fixed", vi, en, field=field, rule="D19")


async def revise_plan(conn: AsyncConnection, caller: Caller, plan_id: uuid.UUID, data: PlanUpdate) -> Plan:
    """Correct an issued plan (D19): its number, date of issue, period or added reviews; its kind and issuing
    committee are fixed. Term and year plans list again every review due in their period, as the calendar
    stands (D17 overrides included)."""
    held: ReviewPlanRecord = await get_visible(conn, REVIEW_PLAN, caller.unit, plan_id, down=True, what=PLAN_WHAT)
    owner = await writable_owner(conn, caller, held.owner)
    check_rev(data.rev, held)
    if not isinstance(data.plan_kind, msgspec.UnsetType) and data.plan_kind != held.plan_kind:
        raise _fixed(
            "plan_kind",
            "Không đổi được loại kế hoạch đã ban hành; nếu cần kế hoạch loại khác, hãy ban hành kế hoạch mới.",
            "An issued plan's kind cannot change; issue a new plan instead.",
        )
    if not isinstance(data.unit, msgspec.UnsetType) and data.unit not in (None, held.owner):
        raise _fixed(
            "unit",
            "Không đổi được đơn vị ban hành kế hoạch; cấp ủy khác cần ban hành kế hoạch của mình.",
            "The issuing committee of a plan cannot change; that committee issues its own plan.",
        )
    changes = changes_of(data, skip=("rev", "plan_kind", "unit"))
    if held.plan_kind != "year" and "year" in changes:
        raise _fixed("year", "Chỉ kế hoạch năm mới có năm áp dụng.", "Only a year plan has a year.")
    if held.plan_kind == "year" and {"period_start", "period_end"} & changes.keys():
        raise _fixed(
            "year",
            "Kỳ của kế hoạch năm là cả năm áp dụng: hãy sửa năm áp dụng.",
            "A year plan covers its whole year: change its year.",
        )
    if held.plan_kind != "addition" and "items" in changes:
        raise _fixed(
            "items",
            "Kế hoạch nhiệm kỳ, kế hoạch năm gồm mọi mốc đến hạn trong kỳ; chỉ kế hoạch bổ sung mới chọn mốc.",
            "Term and year plans list every review due in their period; only an addition chooses its reviews.",
        )
    end = changes.get("period_end", None if "period_start" in changes else held.period_end)
    merged = PlanCreate(
        held.plan_kind,
        changes.get("number", held.number),
        changes.get("issued_on", held.issued_on),
        changes.get("period_start", held.period_start),
        end,
        changes.get("year", held.period_start.year),
        changes.get("items", held.items),
    )
    document_number_field(merged.number, "number")
    start, end = _period(merged)
    fields = await _planned(conn, owner, merged, start, end)
    rec = msgspec.structs.replace(held, rev=held.rev + 1, **fields)
    await save(conn, REVIEW_PLAN, rec)
    return plan_out(rec)


async def _check_project(conn: AsyncConnection, owner: UnitInfo, rec: ReviewProjectRecord) -> ReviewProjectRecord:
    review_kind_field(rec.kind)
    if not rec.title.strip():
        raise invalid("title", "D21", "Thiếu tên đề án.", "The title is empty.")
    await visible_document(conn, owner, rec.document, "document")
    if rec.approved_on is not None and rec.approved_on < rec.proposed_on:
        raise invalid("approved_on", "D21", "Ngày phê duyệt trước ngày đề xuất.", "Approved before proposed.")
    return msgspec.structs.replace(rec, title=rec.title.strip())


PROJECTS: RecordService[ReviewProjectRecord] = RecordService(
    RecordKind(REVIEW_PROJECT, ("đề án", "project"), _check_project), Shapes(Project, ProjectCreate, ProjectUpdate)
)
"""The lead agency proposes a review project (đề án) to its committee (D21); an edit renames it or records the
committee's approval."""


async def create_project(conn: AsyncConnection, caller: Caller, data: ProjectCreate) -> Project:
    """The lead agency proposes a review project (đề án) to its committee (D21)."""
    return out(await PROJECTS.create(conn, caller, data), Project)


async def edit_project(conn: AsyncConnection, caller: Caller, project_id: uuid.UUID, data: ProjectUpdate) -> Project:
    """Rename a project or record the committee's approval."""
    return out(await PROJECTS.revise(conn, caller, project_id, data), Project)


async def _held(conn: AsyncConnection, caller: Caller, data: ReviewHeldCreate) -> ReviewReportRecord:
    review_kind_field(data.kind)
    report_number = document_number_field(data.report_number, "report_number") if data.report_number.strip() else ""
    table = REVIEW_REPORT.table
    owner = await writable_owner(conn, caller, data.unit or caller.unit.id)
    doc = await visible_document(conn, owner, data.document, "document")
    milestone = next(m for m in await document_milestones(conn, owner, [doc], data.held_on) if m.kind == data.kind)
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
        raise conflict(
            "kind",
            "D16",
            "Đơn vị đã ghi nhận sơ kết/tổng kết này.",
            "This review is already recorded.",
            code="review.duplicate",
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
        raise conflict(
            "waived_reason",
            "D21",
            f"Cấp dưới chưa sơ kết/tổng kết ({len(missing)}: {codes}); cơ sở làm trước, rồi đến cấp trên. "
            "Nếu vẫn ghi nhận, hãy nêu lý do (waived_reason).",
            f"Units below have not held their review ({len(missing)}: {codes}); base units go first. "
            "Give waived_reason to record it anyway.",
            code="review.children_first",
        )
    rec = new_record(
        ReviewReportRecord,
        owner.id,
        document=doc.id,
        kind=data.kind,
        held_on=data.held_on,
        cut_off=milestone.cut_off,
        report_number=report_number,
        waived_reason=data.waived_reason.strip(),
    )
    await save(conn, REVIEW_REPORT, rec)
    return rec


HELD_REVIEWS = RecordService(
    RecordKind(REVIEW_REPORT, ("sơ kết", "review"), creates=_held), Shapes(ReviewHeld, ReviewHeldCreate)
)
"""Reviews held in a subtree; recording one is checked against the calendar and the bottom-up order (D16, D21)."""


async def create_review_report(conn: AsyncConnection, caller: Caller, data: ReviewHeldCreate) -> ReviewHeld:
    """Record that a unit held its review (D16, D21)."""
    return out(await HELD_REVIEWS.create(conn, caller, data), ReviewHeld)
