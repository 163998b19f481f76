"""Lịch sơ kết, tổng kết: every review a unit owes (D16, D20), one document's calendar with its overrides (D17),
the plans that cover it (D19, D20) and the bottom-up order (D21); the plans, projects and held reviews pages are in
`ui_plans` and `ui_reviews`, listed here."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.params import FromPath, FromQuery, QueryParameter

from shared.calendar import ui_plans, ui_reviews
from shared.calendar.lists import level_labels, overrides_for, plans_for, reports_for
from shared.calendar.plans import OVERRIDES, create_override
from shared.calendar.schemas import MilestoneOut, Override, OverrideCreate, OverrideUpdate
from shared.calendar.service import ASSUMPTIONS_VI, bottom_up_steps, document_milestones
from shared.calendar.ui_common import (
    BASE,
    KIND_LABELS_VI,
    PLAN_KIND_LABELS_VI,
    STATUS_LABELS_VI,
    plan_late_vi,
    unit_choices,
)
from shared.core.scope import get_visible, units_info
from shared.documents.records import DOCUMENT, DocumentRecord
from shared.documents.service import WHAT, newest_documents
from shared.domain.calendar import annual_evaluations
from shared.domain.formatting import format_date
from shared.programmes.export import xlsx_response
from shared.ui.forms import Form, Posted
from shared.ui.web import Frame, Listed, Page, back_to, render, where

StatusQuery = Annotated[str | None, QueryParameter(name="state")]
"""`?state=` (Litestar keeps the name `state` for the app state)."""
UNITS_LISTED = 200
"""Units of one level listed by name in the bottom-up order; beyond that the page gives counts."""


def _filtered(
    items: list[MilestoneOut], document: uuid.UUID | None, kind: str | None, status: str | None, year: int | None
) -> list[MilestoneOut]:
    return [
        m
        for m in items
        if (document is None or m.document == document)
        and (not kind or m.kind == kind)
        and (not status or m.status == status)
        and (year is None or m.due.year == year)
    ]


async def _calendar_context(
    request: Request[Any, Any, State],
    frame: Page,
    document: uuid.UUID | None,
    kind: str | None,
    status: str | None,
    year: int | None,
) -> dict[str, Any]:
    async with request.app.state.db.read() as conn:
        docs = await newest_documents(conn, frame.viewer)
        items = await document_milestones(conn, frame.viewer, docs, date.today())
    titles = {d.id: d.title for d in docs}
    return {
        "items": _filtered(items, document, kind, status, year),
        "total": len(items),
        "docs": docs,
        "titles": titles,
        "years": sorted({m.due.year for m in items}),
        "kinds": KIND_LABELS_VI,
        "statuses": STATUS_LABELS_VI,
        "document": str(document or ""),
        "kind": kind or "",
        "status": status or "",
        "year": str(year or ""),
        "units": await unit_choices(request, frame),
    }


async def _listed(
    request: Request[Any, Any, State],
    frame: Frame,
    document: FromQuery[uuid.UUID | None] = None,
    kind: FromQuery[str | None] = None,
    which: StatusQuery = None,
    year: FromQuery[int | None] = None,
) -> dict[str, Any]:
    """The calendar as its filters ask (`?document=&kind=&state=&year=`), for the page and its .xlsx alike."""
    return await _calendar_context(request, frame, document, kind, which, year)


LISTED = {"listed": Provide(_listed)}


@get(BASE, dependencies=LISTED)
async def calendar_page(frame: Frame, listed: Listed) -> Response[Any]:
    """Every review of the documents the unit holds, in due order, with its status today (D16, D17, D20)."""
    return render("calendar.html", frame, where=where, **listed)


@get(f"{BASE}.xlsx", dependencies=LISTED)
async def calendar_xlsx(listed: Listed) -> Response[Any]:
    """The calendar as filtered, one row per review."""
    header = (
        "Văn bản", "Trích yếu", "Việc", "Hạn theo quy định", "Hạn áp dụng", "Lý do điều chỉnh", "Văn bản chỉ đạo",
        "Hạn của đơn vị", "Hạn ban hành kế hoạch", "Số liệu tính đến", "Tình trạng",
    )  # fmt: skip
    rows = [
        (
            m.document_number,
            listed["titles"].get(m.document, ""),
            m.kind_vi,
            m.scheduled_due,
            m.due,
            m.override_reason or "",
            m.instructing_document or "",
            m.unit_due,
            m.plan_deadline,
            m.cut_off,
            m.status_vi,
        )
        for m in listed["items"]
    ]
    return xlsx_response("lich-so-ket-tong-ket.xlsx", "Lịch sơ kết, tổng kết", header, rows)


async def _document_context(request: Request[Any, Any, State], frame: Page, doc_id: uuid.UUID) -> dict[str, Any]:
    """One document as the viewed unit holds it: reviews, overrides, plans that cover them, the bottom-up order."""
    today = date.today()
    async with request.app.state.db.read() as conn:
        doc: DocumentRecord = await get_visible(conn, DOCUMENT, frame.viewer, doc_id, down=True, what=WHAT)
        milestones = await document_milestones(conn, frame.viewer, [doc], today)
        overrides = await overrides_for(conn, frame.viewer, doc.id)
        plans = [p for p in await plans_for(conn, frame.viewer) if any(i.document == doc.id for i in p.items)]
        held = await reports_for(conn, frame.viewer, doc.id, limit=1000)
        order = {kind: await bottom_up_steps(conn, frame.me, doc.id, kind, frame.viewer.id) for kind in KIND_LABELS_VI}
        levels = await level_labels(conn, frame.viewer)
        units = await units_info(conn, list({doc.owner, *(o.unit for o in overrides), *(p.unit for p in plans)}))
    final = next(m for m in milestones if m.kind == "final")
    owner = units.get(doc.owner)
    numbers = {doc.id: doc.number}
    steps: dict[str, list[dict[str, Any]]] = {}
    for kind, rows in order.items():
        by_depth: dict[int, list[Any]] = defaultdict(list)
        for row in rows:
            by_depth[row.depth].append(row)
        steps[kind] = [
            {
                "depth": depth,
                "level": levels.get(depth, f"Bậc {depth}"),
                "due": group[0].due,
                "units": group[:UNITS_LISTED],
                "more": max(len(group) - UNITS_LISTED, 0),
                "count": len(group),
                "held": sum(1 for r in group if r.held_on),
            }
            for depth, group in sorted(by_depth.items(), reverse=True)
        ]
    return {
        "doc": doc,
        "owner": owner,
        "milestones": milestones,
        "overrides": sorted(overrides, key=lambda o: (o.kind != "preliminary", o.due)),
        "applied": {(m.kind, m.due, m.instructing_document) for m in milestones if m.moved},
        "plans": [(p, plan_late_vi(p, numbers)) for p in plans],
        "own_held": {r.kind: r for r in held if r.unit == frame.viewer.id},
        "steps": steps,
        "units": units,
        "evaluations": annual_evaluations(doc.signed_on, final.due),
        "assumptions": ASSUMPTIONS_VI,
        "kinds": KIND_LABELS_VI,
        "plan_kinds": PLAN_KIND_LABELS_VI,
        # D17: moving a review is the committee's decision (admin), taken at the issuing level or above it.
        "can_override": frame.is_admin and owner is not None and frame.viewer.covers(owner),
        "form": {},
        "errors": {},
        "today": today,
    }


@get(f"{BASE}/van-ban/{{doc_id:uuid}}")
async def document_calendar_page(
    request: Request[Any, Any, State],
    frame: Frame,
    doc_id: FromPath[uuid.UUID],
    saved: FromQuery[str | None] = None,
    edit: FromQuery[uuid.UUID | None] = None,
) -> Response[Any]:
    context = await _document_context(request, frame, doc_id)
    editing = next((o for o in context["overrides"] if o.id == edit), None) if context["can_override"] else None
    if editing is not None:
        context.update(editing=editing, form=_override_values(editing))
    return render("calendar_document.html", frame, saved=saved, where=where, **context)


def _override_values(o: Override) -> dict[str, str]:
    return {"due": format_date(o.due), "reason": o.reason, "instructing_document": o.instructing_document}


def _read_override(form: Form) -> tuple[Any, str, str]:
    due = form.day("due")
    reason = form.text("reason", required="Ghi lý do điều chỉnh mốc (D17).")
    instructing = form.text(
        "instructing_document", required="Ghi số văn bản chỉ đạo việc điều chỉnh, ví dụ 12-CV/TU (D17)."
    )
    return due, reason, instructing


@post(f"{BASE}/van-ban/{{doc_id:uuid}}/dieu-chinh", status_code=303, opt={"role": "admin"})
async def add_override(
    request: Request[Any, Any, State], frame: Frame, form: Posted, doc_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Move a review earlier or later with its reason and instructing document (D17), as the API's check does."""
    kind = form.choice("kind", KIND_LABELS_VI, message="Chọn sơ kết hay tổng kết được điều chỉnh.")
    due, reason, instructing = _read_override(form)
    if form.ok and due is not None:
        data = OverrideCreate(doc_id, kind, due, reason, instructing, frame.viewer.id)
        if await form.save(lambda conn: create_override(conn, frame.me, data)):
            return back_to(f"{BASE}/van-ban/{doc_id}", frame, saved="override")
    context = await _document_context(request, frame, doc_id)
    return form.again("calendar_document.html", frame, context, saved=None, where=where)


@post(f"{BASE}/dieu-chinh/{{override_id:uuid}}/sua", status_code=303, opt={"role": "admin"})
async def edit_override(
    request: Request[Any, Any, State], frame: Frame, form: Posted, override_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Change an override's new date, reason or instructing document (D17); refused on an older version."""
    due, reason, instructing = _read_override(form)
    rev = form.text("rev")
    async with request.app.state.db.read() as conn:
        held = await OVERRIDES.get(conn, frame.me, override_id)
    if form.ok and due is not None:
        update = OverrideUpdate(int(rev) if rev.isdigit() else msgspec.UNSET, due, reason, instructing)
        if await form.save(lambda conn: OVERRIDES.revise(conn, frame.me, override_id, update)):
            return back_to(f"{BASE}/van-ban/{held.document}", frame, saved="override")
    context = await _document_context(request, frame, held.document)
    editing = next((o for o in context["overrides"] if o.id == override_id), None)
    return form.again("calendar_document.html", frame, context, saved=None, where=where, editing=editing)


@post(f"{BASE}/dieu-chinh/{{override_id:uuid}}/rut", status_code=303, opt={"role": "admin"})
async def withdraw_override(
    request: Request[Any, Any, State], frame: Frame, form: Posted, override_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Withdraw an override: the review falls back on the date the rule gives (D16)."""
    document = form.ident("document", required="Thiếu văn bản.")
    async with request.app.state.db.write() as conn:
        await OVERRIDES.delete(conn, frame.me, override_id)
    path = f"{BASE}/van-ban/{document}" if document else BASE
    return back_to(path, frame, saved="withdrawn")


PAGES = (
    calendar_page,
    calendar_xlsx,
    document_calendar_page,
    add_override,
    edit_override,
    withdraw_override,
    *ui_plans.PAGES,
    *ui_reviews.PAGES,
)
