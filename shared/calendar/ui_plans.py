"""Kế hoạch sơ kết, tổng kết: the plans a unit holds (D19), whether each was issued in time (D19, D20), what a term
plan and next year's plan must contain, and the form to issue one (the committee's decision: admin)."""

from __future__ import annotations

import uuid
from datetime import date
from functools import partial
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.params import FromPath, FromQuery

from shared.calendar.lists import plan_for, plans_for
from shared.calendar.plans import create_plan, revise_plan
from shared.calendar.records import PlanItem
from shared.calendar.schemas import MilestoneOut, Plan, PlanCreate, PlanUpdate
from shared.calendar.service import KIND_BY_NAME, term_plan_preview, year_plan_preview
from shared.calendar.ui_common import (
    BASE,
    KIND_LABELS_VI,
    PLAN_KIND_LABELS_VI,
    PLAN_STATE_LABELS_VI,
    plan_late_vi,
    unit_choices,
)
from shared.core.errors import Refusal
from shared.core.scope import units_info, writes_here
from shared.documents.service import newest_documents
from shared.domain.calendar import Milestone, add_full_years
from shared.domain.errors import DateError
from shared.domain.formatting import format_date, parse_date
from shared.programmes.export import xlsx_response
from shared.ui.forms import GENERAL, Form, Posted
from shared.ui.web import Frame, Listed, Page, StateQuery, back_to, render, where

PLANS = f"{BASE}/ke-hoach"
ITEM_ROWS = 3
"""Rows an added plan's form offers for the reviews it adds (D19: reviews may be added during the year)."""


def _state(plan: Plan) -> str:
    return "late" if plan.late else "on_time"


async def _previews(
    request: Request[Any, Any, State], frame: Page, term_start: str | None, year_text: str | None
) -> dict[str, Any]:
    """What a term plan from `term_start` and the plan for `year` must list (D19), for the viewed unit."""
    errors: dict[str, str] = {}
    term: list[MilestoneOut] | None = None
    start: date | None = None
    if term_start:
        try:
            start = parse_date(term_start)
        except DateError as exc:
            errors["term_start"] = exc.message_vi
    year = date.today().year + 1
    if year_text and year_text.strip().isdigit() and 1900 <= int(year_text) <= 2200:
        year = int(year_text)
    elif year_text:
        errors["year"] = "Ghi năm gồm 4 chữ số, ví dụ 2025."
    async with request.app.state.db.read() as conn:
        if start is not None:
            # The period `create_plan` gives a term plan: five full years from the term's first day.
            term = await term_plan_preview(conn, frame.me, start, add_full_years(start, 5), frame.viewer.id)
        next_year = await year_plan_preview(conn, frame.me, year, frame.viewer.id)
    return {
        "term_start": term_start or "",
        "term": term,
        "term_end": add_full_years(start, 5) if start else None,
        "preview_year": year_text or str(year),
        "next_year": next_year,
        "preview_errors": errors,
    }


async def _list_context(
    request: Request[Any, Any, State],
    frame: Page,
    document: uuid.UUID | None,
    plan_kind: str | None,
    state: str | None,
) -> dict[str, Any]:
    async with request.app.state.db.read() as conn:
        plans = await plans_for(conn, frame.viewer)
        docs = await newest_documents(conn, frame.viewer)
        units = await units_info(conn, list({p.unit for p in plans}))
    numbers = {d.id: d.number for d in docs}
    shown = [
        p
        for p in plans
        if (document is None or any(i.document == document for i in p.items))
        and (not plan_kind or p.plan_kind == plan_kind)
        and (not state or _state(p) == state)
    ]
    return {
        "plans": [(p, plan_late_vi(p, numbers)) for p in shown],
        "total": len(plans),
        "units": units,
        "docs": docs,
        "doc_options": [(str(d.id), f"{d.number} — {d.title}") for d in docs],
        "numbers": numbers,
        "plan_kinds": PLAN_KIND_LABELS_VI,
        "kinds": KIND_LABELS_VI,
        "plan_states": PLAN_STATE_LABELS_VI,
        "document": str(document or ""),
        "plan_kind": plan_kind or "",
        "state": state or "",
        "unit_options": await unit_choices(request, frame),
        "form": {"plan_kind": "year", "year": str(date.today().year + 1)},
        "errors": {},
        "item_rows": ITEM_ROWS,
        "state_of": _state,
    }


async def _listed(
    request: Request[Any, Any, State],
    frame: Frame,
    document: FromQuery[uuid.UUID | None] = None,
    kind: FromQuery[str | None] = None,
    which: StateQuery = None,
) -> dict[str, Any]:
    """The plans as the filters ask (`?document=&kind=&state=`), for the page and its .xlsx alike."""
    return await _list_context(request, frame, document, kind, which)


LISTED = {"listed": Provide(_listed)}


@get(PLANS, dependencies=LISTED)
async def plans_page(
    request: Request[Any, Any, State],
    frame: Frame,
    listed: Listed,
    term_start: FromQuery[str | None] = None,
    year: FromQuery[str | None] = None,
    saved: FromQuery[str | None] = None,
) -> Response[Any]:
    """Plans of the unit and of the levels above it (D19), filtered; what a term or year plan must list."""
    context = {**listed, **await _previews(request, frame, term_start, year)}
    return render("calendar_plans.html", frame, saved=saved, where=where, **context)


@get(f"{PLANS}.xlsx", dependencies=LISTED)
async def plans_xlsx(listed: Listed) -> Response[Any]:
    """The plans as filtered, one row per review a plan lists (a plan listing none: one row)."""
    units, numbers = listed["units"], listed["numbers"]
    header = (
        "Số kế hoạch", "Loại", "Đơn vị ban hành", "Ngày ban hành", "Từ ngày", "Đến ngày", "Văn bản", "Việc",
        "Hạn", "Hạn ban hành kế hoạch", "Tình trạng", "Ghi chú",
    )  # fmt: skip
    rows: list[tuple[Any, ...]] = []
    for p, late in listed["plans"]:
        head = (
            p.number, PLAN_KIND_LABELS_VI.get(p.plan_kind, p.plan_kind), units[p.unit].name if p.unit in units else "",
            p.issued_on, p.period_start, p.period_end,
        )  # fmt: skip
        tail = (PLAN_STATE_LABELS_VI[_state(p)], " ".join(late))
        for i in p.items:
            deadline = Milestone("", KIND_BY_NAME[i.kind], i.due).plan_deadline
            rows.append(
                (*head, numbers.get(i.document, ""), KIND_LABELS_VI.get(i.kind, i.kind), i.due, deadline, *tail)
            )
        if not p.items:
            rows.append((*head, "", "", None, None, *tail))
    return xlsx_response("ke-hoach-so-ket-tong-ket.xlsx", "Kế hoạch sơ kết, tổng kết", header, rows)


def _read_items(form: Form, rows: int = ITEM_ROWS) -> list[PlanItem]:
    """The reviews an added plan lists: a document and which review, one row each; blank rows are skipped."""
    items = []
    for i in range(rows):
        if not str(form.data.get(f"a{i}_document", "")).strip():
            form.values[f"a{i}_kind"] = str(form.data.get(f"a{i}_kind", ""))
            continue
        document = form.ident(f"a{i}_document")
        kind = form.choice(f"a{i}_kind", KIND_LABELS_VI, message="Chọn sơ kết hay tổng kết.")
        if document is not None and kind:
            # The due date is the calendar's (the service fills it in); a placeholder travels meanwhile.
            items.append(PlanItem(document, kind, date.min))
    return items


def _refused(form: Form, exc: Refusal) -> None:
    """A refusal next to its field; an item's (`items[1].document`) next to that row's choice."""
    if not form.refused_row(exc, "items", "a", str, "a0_document"):
        form.refused(exc)
        if exc.problem.field == "unit":
            form.errors[GENERAL] = exc.problem.message


@post(PLANS, status_code=303, opt={"role": "admin"})
async def add_plan(request: Request[Any, Any, State], frame: Frame, form: Posted) -> Response[Any]:
    """Issue a plan of reviews (D19) with every check of `POST /api/v1/review-plans`; a committee decision."""
    plan_kind = form.choice("plan_kind", PLAN_KIND_LABELS_VI, message="Chọn loại kế hoạch.")
    number = form.text("number", required="Ghi số, ký hiệu kế hoạch, ví dụ 12-KH/TU.")
    issued_on = form.day("issued_on")
    period_start = form.day("period_start", required=plan_kind == "term")
    if plan_kind == "term" and "period_start" in form.errors and not form.values["period_start"]:
        form.errors["period_start"] = "Kế hoạch nhiệm kỳ cần ngày bắt đầu nhiệm kỳ, ví dụ 01/10/2020."
    year = None
    if plan_kind == "year":
        text = form.text("year")
        if text.isdigit() and 1900 <= int(text) <= 2200:
            year = int(text)
        else:
            form.errors["year"] = "Ghi năm áp dụng của kế hoạch năm, ví dụ 2025."
    items = _read_items(form) if plan_kind == "addition" else []
    if plan_kind == "addition" and not items and form.ok:
        form.errors["a0_document"] = "Kế hoạch bổ sung cần ít nhất một mốc: chọn văn bản và việc."
    if form.ok and issued_on is not None:
        data = PlanCreate(plan_kind, number, issued_on, period_start, None, year, items, frame.viewer.id)
        made = await form.save(lambda conn: create_plan(conn, frame.me, data), partial(_refused, form))
        if made:
            return back_to(f"{PLANS}/{made.value.id}", frame, saved="created")
    context = await _list_context(request, frame, None, None, None)
    context.update(await _previews(request, frame, None, None))
    return form.again("calendar_plans.html", frame, context, saved=None, where=where)


async def _plan_context(request: Request[Any, Any, State], frame: Page, plan_id: uuid.UUID) -> dict[str, Any]:
    """One plan as the viewed unit holds it, and whether this person may correct it here (the issuing committee's
    admin, on the instance that writes its records)."""
    async with request.app.state.db.read() as conn:
        plan = await plan_for(conn, frame.viewer, plan_id)
        docs = await newest_documents(conn, frame.viewer)
        units = await units_info(conn, [plan.unit])
        owner = units.get(plan.unit)
        mine = owner is not None and frame.viewer.covers(owner)
        can_revise = frame.is_admin and mine and owner is not None and await writes_here(conn, owner)
    by_id = {d.id: d for d in docs}
    items = [
        {
            "item": i,
            "doc": by_id.get(i.document),
            "deadline": Milestone("", KIND_BY_NAME[i.kind], i.due).plan_deadline,
        }
        for i in sorted(plan.items, key=lambda i: i.due)
    ]
    values: dict[str, Any] = {
        "number": plan.number,
        "issued_on": format_date(plan.issued_on),
        "year": str(plan.period_start.year),
        "period_start": format_date(plan.period_start),
        "rev": str(plan.rev),
    }
    for n, i in enumerate(plan.items):
        values.update({f"a{n}_document": str(i.document), f"a{n}_kind": i.kind})
    return {
        "plan": plan,
        "owner": owner,
        "items": items,
        "late": plan_late_vi(plan, {d.id: d.number for d in docs}),
        "plan_kinds": PLAN_KIND_LABELS_VI,
        "kinds": KIND_LABELS_VI,
        "can_revise": can_revise,
        "doc_options": [(str(d.id), f"{d.number} — {d.title}") for d in docs],
        "item_rows": _item_rows(plan),
        "form": values,
        "errors": {},
    }


def _item_rows(plan: Plan) -> int:
    """An addition's correction shows each review it adds and one empty row more."""
    return max(ITEM_ROWS, len(plan.items) + 1)


@get(f"{PLANS}/{{plan_id:uuid}}")
async def plan_page(
    request: Request[Any, Any, State], frame: Frame, plan_id: FromPath[uuid.UUID], saved: FromQuery[str | None] = None
) -> Response[Any]:
    """One plan: the reviews it lists with their plan deadlines, and what it was issued late for (D19, D20)."""
    context = await _plan_context(request, frame, plan_id)
    return render("calendar_plan.html", frame, saved=saved, where=where, **context)


@post(f"{PLANS}/{{plan_id:uuid}}/sua", status_code=303, opt={"role": "admin"})
async def revise_plan_page(
    request: Request[Any, Any, State], frame: Frame, form: Posted, plan_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Correct an issued plan with every check of `PATCH /api/v1/review-plans/{id}`: its number, date of issue,
    period or added reviews (D19); its kind and issuing committee stay."""
    async with request.app.state.db.read() as conn:
        held = await plan_for(conn, frame.viewer, plan_id)
    number = form.text("number", required="Ghi số, ký hiệu kế hoạch, ví dụ 12-KH/TU.")
    issued_on = form.day("issued_on")
    rev = form.text("rev")
    changes: dict[str, Any] = {}
    if held.plan_kind == "year":
        text = form.text("year")
        if text.isdigit() and 1900 <= int(text) <= 2200:
            changes["year"] = int(text)
        else:
            form.errors["year"] = "Ghi năm áp dụng của kế hoạch năm, ví dụ 2025."
    elif held.plan_kind == "term":
        start = form.day("period_start")
        if start is not None and start != held.period_start:
            changes["period_start"] = start  # the term's five full years run again from the new start
    else:
        changes["items"] = _read_items(form, _item_rows(held))
        if not changes["items"] and form.ok:
            form.errors["a0_document"] = "Kế hoạch bổ sung cần ít nhất một mốc: chọn văn bản và việc."
    if form.ok and issued_on is not None:
        update = PlanUpdate(int(rev) if rev.isdigit() else msgspec.UNSET, number, issued_on, **changes)
        if await form.save(lambda conn: revise_plan(conn, frame.me, plan_id, update), partial(_refused, form)):
            return back_to(f"{PLANS}/{plan_id}", frame, saved="revised")
    context = await _plan_context(request, frame, plan_id)
    return form.again("calendar_plan.html", frame, context, saved=None, where=where)


PAGES = (plans_page, plans_xlsx, add_plan, plan_page, revise_plan_page)
