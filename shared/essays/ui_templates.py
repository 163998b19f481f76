"""Mẫu bài thu hoạch: the essay templates a unit sees (its own level's, those sent down from the levels above,
those written in its subtree) with a form for the viewed level's lead agency to write and revise its own (D11)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.core.scope import units_info, writes_here
from shared.documents.records import DocumentRecord
from shared.documents.service import visible_documents
from shared.domain.formatting import format_date
from shared.essays.schemas import EssayTemplate, EssayTemplateCreate, EssayTemplateUpdate
from shared.essays.service import TEMPLATES, create_essay_template, edit_essay_template, list_templates
from shared.ui.export import xlsx_response
from shared.ui.forms import Form, Posted
from shared.ui.web import Frame, Page, back_to, render

PATH = "/bai-thu-hoach/mau"


def _questions(form: Form) -> list[str]:
    """One question per line of the box; blank lines dropped."""
    text = str(form.data.get("questions") or "")
    form.values["questions"] = text
    found = [q.strip() for q in text.splitlines() if q.strip()]
    if not found:
        form.errors["questions"] = "Nhập ít nhất một câu hỏi, mỗi câu một dòng (D11)."
    return found


async def _context(request: Request[Any, Any, State], frame: Page, document: uuid.UUID | None) -> dict[str, Any]:
    async with request.app.state.db.read() as conn:
        found = await list_templates(conn, frame.me, document, frame.viewer.id)
        docs: list[DocumentRecord] = sorted(
            await visible_documents(conn, frame.viewer), key=lambda d: (d.signed_on, d.number), reverse=True
        )
        units = await units_info(conn, list({t.unit for t in found}))
        writable = frame.can_edit and await writes_here(conn, frame.viewer)
    # Sent down from above first (the province's, then the district's), then the viewed level's, then below.
    found.sort(key=lambda t: (units[t.unit].depth if t.unit in units else 99, t.issued_on))
    return {
        "templates": found,
        "units": units,
        "docs": docs,
        "numbers": {d.id: f"{d.number} — {d.title}" for d in docs},
        "document": str(document or ""),
        "writable": writable,
        "form": {"issued_on": format_date(date.today()), "document": str(document or "")},
        "errors": {},
        "saved": None,
        "editing": None,
        "remove_form": {},
        "remove_errors": {},
        "path": PATH,
    }


@get(PATH)
async def templates_page(
    request: Request[Any, Any, State],
    frame: Frame,
    document: FromQuery[uuid.UUID | None] = None,
    edit: FromQuery[uuid.UUID | None] = None,
    saved: FromQuery[str | None] = None,
) -> Response[Any]:
    context = await _context(request, frame, document)
    context["saved"] = saved
    chosen = next((t for t in context["templates"] if t.id == edit and t.unit == frame.viewer.id), None)
    if chosen is not None and context["writable"]:
        context.update(editing=chosen, form=_values(chosen))
    return render("essay_templates.html", frame, **context)


def _values(t: EssayTemplate) -> dict[str, str]:
    return {
        "document": str(t.document),
        "title": t.title,
        "for_whom": t.for_whom,
        "questions": "\n".join(t.questions),
        "issued_on": format_date(t.issued_on),
        "rev": str(t.rev),
    }


@get(PATH + ".xlsx")
async def templates_xlsx(
    request: Request[Any, Any, State], frame: Frame, document: FromQuery[uuid.UUID | None] = None
) -> Response[Any]:
    context = await _context(request, frame, document)
    units, numbers = context["units"], context["numbers"]
    header = ("Cấp ban hành", "Văn bản", "Tên mẫu", "Dành cho", "Ngày ban hành", "Câu hỏi")
    rows = [
        (
            units[t.unit].name if t.unit in units else "",
            numbers.get(t.document, ""),
            t.title,
            t.for_whom,
            t.issued_on,
            "\n".join(f"{i}. {q}" for i, q in enumerate(t.questions, 1)),
        )
        for t in context["templates"]
    ]
    return xlsx_response("mau-bai-thu-hoach.xlsx", "Mẫu bài thu hoạch", header, rows)


@post(PATH, status_code=303)
async def save_template(
    request: Request[Any, Any, State], frame: Frame, form: Posted, edit: FromQuery[uuid.UUID | None] = None
) -> Response[Any]:
    """Write the viewed level's template for a document, or revise it (`edit`): D11, one per level and document."""
    document = form.ident("document", required="Chọn văn bản của mẫu bài thu hoạch.") if edit is None else None
    title = form.text("title", required="Nhập tên mẫu, ví dụ «Câu hỏi thu hoạch Nghị quyết 05-NQ/HU».")
    for_whom = form.text("for_whom")
    questions = _questions(form)
    issued_on = form.day("issued_on")
    rev = str(form.data.get("rev") or "")
    form.values["rev"] = rev

    async def write(conn: AsyncConnection, issued_on: date) -> None:
        if edit is None and document is not None:
            data = EssayTemplateCreate(document, title, questions, issued_on, for_whom, frame.viewer.id)
            await create_essay_template(conn, frame.me, data)
        elif edit is not None:
            update = EssayTemplateUpdate(
                rev=int(rev) if rev.isdigit() else msgspec.UNSET,
                title=title,
                questions=questions,
                for_whom=for_whom,
                issued_on=issued_on,
            )
            await edit_essay_template(conn, frame.me, edit, update)

    if form.ok and issued_on is not None and await form.save(lambda conn: write(conn, issued_on)):
        return back_to(PATH, frame, saved="edited" if edit else "created")
    context = await _context(request, frame, None)
    editing = next((t for t in context["templates"] if t.id == edit), None) if edit else None
    return form.again("essay_templates.html", frame, context, editing=editing)


@post(PATH + "/{template_id:uuid}/rut", status_code=303)
async def withdraw_template(
    request: Request[Any, Any, State], frame: Frame, form: Posted, template_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Withdraw a template written by mistake (D11), as `DELETE /api/v1/essay-templates/{id}` does: only the level
    that wrote it; the essays graded stay, they hang on the document."""
    rev = form.withdrawal("Hãy đánh dấu ô xác nhận trước khi rút mẫu.")
    if form.ok and await form.save(lambda conn: TEMPLATES.delete(conn, frame.me, template_id, rev), form.refused_above):
        return back_to(PATH, frame, saved="withdrawn")
    context = await _context(request, frame, None)
    editing = next((t for t in context["templates"] if t.id == template_id and t.unit == frame.viewer.id), None)
    if editing is not None and context["writable"]:
        context.update(editing=editing, form=_values(editing))
    return form.again("essay_templates.html", frame, context, prefix="remove_")


PAGES = (templates_page, templates_xlsx, save_template, withdraw_template)
