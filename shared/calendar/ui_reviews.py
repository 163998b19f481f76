"""Đề án and đã tổ chức: review projects the lead agency proposes (D21) and the reviews units have held (D16, D21,
bottom-up: a unit records its own once the units below it have held theirs, or says why not)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeAlias

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery

from shared.calendar.lists import project_for, projects_for, reports_for
from shared.calendar.plans import HELD_REVIEWS, create_project, create_review_report, edit_project
from shared.calendar.schemas import Project, ProjectCreate, ProjectUpdate, ReviewHeld, ReviewHeldCreate
from shared.calendar.ui_common import (
    BASE,
    KIND_LABELS_VI,
    PROJECT_STATE_LABELS_VI,
    unit_choices,
)
from shared.core.errors import Refusal
from shared.core.scope import MAX_PAGE, units_info
from shared.documents.service import newest_documents
from shared.domain.formatting import format_date
from shared.programmes.export import xlsx_response
from shared.ui.forms import GENERAL, Form, Posted
from shared.ui.web import Frame, Page, StateQuery, back_to, render, where

PROJECTS = f"{BASE}/de-an"
HELD = f"{BASE}/da-to-chuc"
PAGE_SIZE = 200
EXPORT_PAGES = 50
"""An export reads at most this many pages of `MAX_PAGE` rows (50,000 held reviews: a province's several rounds)."""


def _project_state(p: Project) -> str:
    return "approved" if p.approved_on else "proposed"


def _refused(form: Form, exc: Refusal) -> None:
    form.refused(exc)
    if exc.problem.field == "unit":
        form.errors[GENERAL] = exc.problem.message
    elif exc.problem.code == "review.children_first":  # the API names its field; a person is shown the box
        form.errors["waived_reason"] = exc.problem.message.replace(
            "hãy nêu lý do (waived_reason)", "hãy ghi lý do ở ô này"
        )


async def _docs(request: Request[Any, Any, State], frame: Page) -> list[Any]:
    async with request.app.state.db.read() as conn:
        return await newest_documents(conn, frame.viewer)


async def _listing(
    request: Request[Any, Any, State], frame: Page, found: list[Any], limit: int, document: uuid.UUID | None
) -> dict[str, Any]:
    """What the projects and the held reviews list alike: one page of `found` (read one row past `limit` to know
    there is more), the units and documents it names, the filters and the form's chosen document."""
    async with request.app.state.db.read() as conn:
        units = await units_info(conn, list({r.unit for r in found}))
    docs = await _docs(request, frame)
    return {
        "found": found[:limit],
        "next_after": found[limit - 1].id if len(found) > limit else None,
        "units": units,
        "numbers": {d.id: d.number for d in docs},
        "doc_options": [(str(d.id), f"{d.number} — {d.title}") for d in docs],
        "kinds": KIND_LABELS_VI,
        "document": str(document or ""),
        "unit_options": await unit_choices(request, frame),
        "form": {"document": str(document or "")},
        "errors": {},
    }


@dataclass(frozen=True, slots=True)
class _Asked:
    """A list's filters as the query gives them (`?document=&state=`, `?document=&kind=`, and the page's `after`),
    read once for the page and its .xlsx; Litestar builds it from its annotated fields."""

    request: Request[Any, Any, State]
    frame: Frame
    document: FromQuery[uuid.UUID | None] = None
    which: StateQuery = None
    kind: FromQuery[str | None] = None
    after: FromQuery[uuid.UUID | None] = None


ASKED = {"asked": Provide(_Asked, sync_to_thread=False)}
Asked: TypeAlias = NamedDependency[_Asked]


ABOUT = ("Đơn vị", "Văn bản", "Việc")
"""The first columns of both exports: whose, on which document, which review."""


def _about(context: dict[str, Any], r: Project | ReviewHeld) -> tuple[str, str, str]:
    units, numbers = context["units"], context["numbers"]
    return (
        units[r.unit].name if r.unit in units else "",
        numbers.get(r.document, ""),
        KIND_LABELS_VI.get(r.kind, r.kind),
    )


# Review projects (đề án, D21).


async def _projects_context(
    request: Request[Any, Any, State],
    frame: Page,
    document: uuid.UUID | None,
    state: str | None,
    after: uuid.UUID | None,
    limit: int = PAGE_SIZE,
) -> dict[str, Any]:
    async with request.app.state.db.read() as conn:
        found = await projects_for(conn, frame.viewer, document, after, limit + 1)
    context = await _listing(request, frame, found, limit, document)
    shown = context.pop("found")
    return context | {
        "projects": [p for p in shown if not state or _project_state(p) == state],
        "states": PROJECT_STATE_LABELS_VI,
        "state_of": _project_state,
        "state": state or "",
    }


@get(PROJECTS, dependencies=ASKED)
async def projects_page(asked: Asked, saved: FromQuery[str | None] = None) -> Response[Any]:
    """Review projects proposed in the unit's subtree (D21), filtered by document and state."""
    context = await _projects_context(asked.request, asked.frame, asked.document, asked.which, asked.after)
    return render("calendar_projects.html", asked.frame, saved=saved, where=where, **context)


@get(f"{PROJECTS}.xlsx", dependencies=ASKED)
async def projects_xlsx(asked: Asked) -> Response[Any]:
    """The projects as filtered, from the first (the page's `after` does not apply)."""
    context = await _projects_context(asked.request, asked.frame, asked.document, asked.which, None, MAX_PAGE)
    header = (*ABOUT, "Tên đề án", "Ngày đề xuất", "Ngày phê duyệt", "Tình trạng")
    rows = [
        (*_about(context, p), p.title, p.proposed_on, p.approved_on, PROJECT_STATE_LABELS_VI[_project_state(p)])
        for p in context["projects"]
    ]
    return xlsx_response("de-an-so-ket-tong-ket.xlsx", "Đề án sơ kết, tổng kết", header, rows)


@post(PROJECTS, status_code=303)
async def add_project(request: Request[Any, Any, State], frame: Frame, form: Posted) -> Response[Any]:
    """The lead agency proposes a review project (đề án) to its committee (D21)."""
    document = form.ident("document", required="Chọn văn bản được sơ kết, tổng kết.")
    kind = form.choice("kind", KIND_LABELS_VI, message="Chọn sơ kết hay tổng kết.")
    title = form.text("title", required="Ghi tên đề án.")
    proposed_on = form.day("proposed_on")
    if form.ok and document is not None and proposed_on is not None:
        data = ProjectCreate(document, kind, title, proposed_on, frame.viewer.id)
        made = await form.save(lambda conn: create_project(conn, frame.me, data), partial(_refused, form))
        if made:
            return back_to(f"{PROJECTS}/{made.value.id}", frame, saved="created")
    context = await _projects_context(request, frame, None, None, None)
    return form.again("calendar_projects.html", frame, context, saved=None, where=where)


async def _project_context(request: Request[Any, Any, State], frame: Page, project_id: uuid.UUID) -> dict[str, Any]:
    async with request.app.state.db.read() as conn:
        project = await project_for(conn, frame.viewer, project_id)
        units = await units_info(conn, [project.unit])
    owner = units.get(project.unit)
    docs = await _docs(request, frame)
    return {
        "project": project,
        "owner": owner,
        "doc": next((d for d in docs if d.id == project.document), None),
        "kinds": KIND_LABELS_VI,
        "states": PROJECT_STATE_LABELS_VI,
        "state_of": _project_state,
        "mine": frame.can_edit and owner is not None and frame.me.unit.covers(owner),
        "form": {
            "title": project.title,
            "approved_on": format_date(project.approved_on) if project.approved_on else "",
            "rev": str(project.rev),
        },
        "errors": {},
    }


@get(f"{PROJECTS}/{{project_id:uuid}}")
async def project_page(
    request: Request[Any, Any, State],
    frame: Frame,
    project_id: FromPath[uuid.UUID],
    saved: FromQuery[str | None] = None,
) -> Response[Any]:
    context = await _project_context(request, frame, project_id)
    return render("calendar_project.html", frame, saved=saved, where=where, **context)


@post(f"{PROJECTS}/{{project_id:uuid}}/sua", status_code=303)
async def edit_project_page(
    request: Request[Any, Any, State], frame: Frame, form: Posted, project_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Rename a project or record the committee's approval (D21)."""
    title = form.text("title", required="Ghi tên đề án.")
    approved_on = form.day("approved_on", required=False)
    rev = form.number("rev", label="Phiên bản")
    update = ProjectUpdate(rev or 0, title, approved_on)
    if form.ok and await form.save(
        lambda conn: edit_project(conn, frame.me, project_id, update), partial(_refused, form)
    ):
        return back_to(f"{PROJECTS}/{project_id}", frame, saved="edited")
    context = await _project_context(request, frame, project_id)
    return form.again("calendar_project.html", frame, context, saved=None, where=where)


# Reviews held (D16, D21).


async def _held_context(
    request: Request[Any, Any, State],
    frame: Page,
    document: uuid.UUID | None,
    kind: str | None,
    after: uuid.UUID | None,
    limit: int = PAGE_SIZE,
) -> dict[str, Any]:
    kind = kind if kind in KIND_LABELS_VI else None
    found: list[ReviewHeld] = []
    async with request.app.state.db.read() as conn:
        # The page reads one page (and one row to know there is more); an export reads page after page.
        while len(found) <= limit:
            batch = await reports_for(conn, frame.viewer, document, kind, after, min(limit + 1 - len(found), MAX_PAGE))
            found.extend(batch)
            if len(batch) < MAX_PAGE:
                break
            after = batch[-1].id
    context = await _listing(request, frame, found, limit, document)
    shown = context.pop("found")
    return context | {"held": shown, "kind": kind or ""}


@get(HELD, dependencies=ASKED)
async def held_page(asked: Asked, saved: FromQuery[str | None] = None) -> Response[Any]:
    """Reviews held in the unit's subtree, and the form to record the unit's own (D16, D21)."""
    context = await _held_context(asked.request, asked.frame, asked.document, asked.kind, asked.after)
    return render("calendar_held.html", asked.frame, saved=saved, where=where, **context)


@get(f"{HELD}.xlsx", dependencies=ASKED)
async def held_xlsx(asked: Asked) -> Response[Any]:
    """The reviews held as filtered, from the first, page after page up to the export's limit."""
    context = await _held_context(asked.request, asked.frame, asked.document, asked.kind, None, MAX_PAGE * EXPORT_PAGES)
    header = (*ABOUT, "Ngày tổ chức", "Số liệu tính đến", "Số báo cáo", "Lý do tổ chức trước cấp dưới")
    rows = [(*_about(context, r), r.held_on, r.cut_off, r.report_number, r.waived_reason) for r in context["held"]]
    return xlsx_response("so-ket-tong-ket-da-to-chuc.xlsx", "Đã tổ chức", header, rows)


@post(HELD, status_code=303)
async def add_held(request: Request[Any, Any, State], frame: Frame, form: Posted) -> Response[Any]:
    """Record that the unit held its review; refused while units below have not, unless a reason is given (D21)."""
    document = form.ident("document", required="Chọn văn bản đã sơ kết, tổng kết.")
    kind = form.choice("kind", KIND_LABELS_VI, message="Chọn sơ kết hay tổng kết.")
    held_on = form.day("held_on")
    report_number = form.text("report_number")
    waived_reason = form.text("waived_reason")
    if form.ok and document is not None and held_on is not None:
        data = ReviewHeldCreate(document, kind, held_on, report_number, waived_reason, frame.viewer.id)
        if await form.save(lambda conn: create_review_report(conn, frame.me, data), partial(_refused, form)):
            return back_to(HELD, frame, document=document, saved="created")
    context = await _held_context(request, frame, None, None, None)
    return form.again("calendar_held.html", frame, context, saved=None, where=where)


@post(f"{HELD}/{{report_id:uuid}}/rut", status_code=303)
async def withdraw_held(
    request: Request[Any, Any, State], frame: Frame, report_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Withdraw a review recorded by mistake."""
    async with request.app.state.db.write() as conn:
        await HELD_REVIEWS.delete(conn, frame.me, report_id)
    return back_to(HELD, frame, saved="withdrawn")


PAGES = (
    projects_page,
    projects_xlsx,
    add_project,
    project_page,
    edit_project_page,
    held_page,
    held_xlsx,
    add_held,
    withdraw_held,
)
