"""Văn bản: the documents a unit holds (D5, D6), one document with its lineage (D7) and reviews (D16-D20), and
the form to register one (editor and above)."""

from __future__ import annotations

import uuid
from datetime import date
from functools import partial
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from shared.calendar.service import ASSUMPTIONS_VI, document_milestones
from shared.core.scope import Caller, down_select, get_visible, page, records, units_info
from shared.documents import ui_edit
from shared.documents.records import DOCUMENT, DocumentRecord
from shared.documents.schemas import DocumentCreate
from shared.documents.service import WHAT, document_lineage, document_out, newest_documents, register_document
from shared.documents.ui_edit import read_document_form, refused_on_form
from shared.domain.calendar import IssuingLevel, annual_evaluations
from shared.domain.docnumbers import parse_document_number
from shared.domain.errors import DocumentNumberError
from shared.ui.export import xlsx_response
from shared.ui.forms import Posted
from shared.ui.web import Frame, Page, render

PAGE_SIZE = 100
EXPORTED = 50_000
LEVEL_LABELS_VI = {level.name: level.value for level in IssuingLevel}


@get("/van-ban")
async def documents_page(
    request: Request[Any, Any, State],
    frame: Frame,
    number: FromQuery[str | None] = None,
    after: FromQuery[uuid.UUID | None] = None,
    withdrawn: FromQuery[bool] = False,
) -> Response[Any]:
    """Documents sent to the unit or entered in its subtree, as `GET /api/v1/documents` lists them (D4, D6)."""
    stmt = down_select(DOCUMENT, frame.viewer)
    search_error = ""
    if number:
        try:
            stmt = stmt.where(DOCUMENT.table.c.number == parse_document_number(number).format())
        except DocumentNumberError as exc:
            search_error = exc.message_vi
    async with request.app.state.db.read() as conn:
        docs = [] if search_error else await records(conn, DOCUMENT, page(stmt, DOCUMENT, after, PAGE_SIZE + 1))
        owners = await units_info(conn, list({d.owner for d in docs}))
    more = len(docs) > PAGE_SIZE
    docs = docs[:PAGE_SIZE]
    return render(
        "documents.html",
        frame,
        withdrawn=withdrawn,
        docs=[document_out(d) for d in docs],
        owners=owners,
        number=number or "",
        search_error=search_error,
        next_after=docs[-1].id if more else None,
        levels=LEVEL_LABELS_VI,
    )


@get("/van-ban.xlsx")
async def documents_xlsx(
    request: Request[Any, Any, State], frame: Frame, number: FromQuery[str | None] = None
) -> Response[Any]:
    """The list as searched, every document (not one page), newest signed first."""
    stmt = down_select(DOCUMENT, frame.viewer).where(DOCUMENT.table.c.deleted.is_(False))
    if number:
        try:
            stmt = stmt.where(DOCUMENT.table.c.number == parse_document_number(number).format())
        except DocumentNumberError:
            stmt = stmt.where(DOCUMENT.table.c.id.is_(None))
    async with request.app.state.db.read() as conn:
        docs = await records(conn, DOCUMENT, stmt.limit(EXPORTED))
        owners = await units_info(conn, list({d.owner for d in docs}))
    header = ("Số, ký hiệu", "Trích yếu", "Ngày ký", "Cơ quan ban hành", "Cấp", "Cơ quan chủ trì tham mưu", "Nhiệm kỳ",
              "Đơn vị nhập")  # fmt: skip
    rows = [
        (
            d.number,
            d.title,
            d.signed_on,
            d.issuer,
            LEVEL_LABELS_VI.get(d.level, d.level),
            d.lead_agency,
            d.term,
            owners[d.owner].name if d.owner in owners else "",
        )
        for d in sorted(docs, key=lambda d: (d.signed_on, d.number), reverse=True)
    ]
    return xlsx_response("van-ban.xlsx", "Văn bản", header, rows)


@get("/van-ban/{doc_id:uuid}")
async def document_page(
    request: Request[Any, Any, State],
    caller: NamedDependency[Caller],
    doc_id: FromPath[uuid.UUID],
    created: FromQuery[bool] = False,
    edited: FromQuery[bool] = False,
) -> Response[Any]:
    """One document as the caller's unit holds it: lineage (D7), reviews with their plan deadlines and cut-offs
    (D16, D17, D20), yearly evaluations (D18) and the assumptions behind the dates."""
    db = request.app.state.db
    today = date.today()
    async with db.read() as conn:
        doc: DocumentRecord = await get_visible(conn, DOCUMENT, caller.unit, doc_id, down=True, what=WHAT)
        milestones = await document_milestones(conn, caller.unit, [doc], today)
        units = await units_info(conn, [doc.owner, *doc.applies_to])
    async with db.read() as conn:
        lineage = await document_lineage(conn, caller.unit, doc_id)
    final = next(m for m in milestones if m.kind == "final")
    return render(
        "document.html",
        Page(caller, caller.unit, request.url.path),
        doc=document_out(doc),
        owner=units.get(doc.owner),
        applies_to=[units[u] for u in doc.applies_to if u in units],
        lineage=lineage,
        milestones=milestones,
        evaluations=annual_evaluations(doc.signed_on, final.due),
        assumptions=ASSUMPTIONS_VI,
        levels=LEVEL_LABELS_VI,
        created=created,
        edited=edited,
        today=today,
    )


async def _form_context(request: Request[Any, Any, State], frame: Page) -> dict[str, Any]:
    async with request.app.state.db.read() as conn:
        docs = await newest_documents(conn, frame.viewer)
    return {"docs": docs}


@get("/van-ban/moi")
async def new_document_form(request: Request[Any, Any, State], caller: NamedDependency[Caller]) -> Response[Any]:
    frame = Page(caller, caller.unit, request.url.path)
    if not frame.can_edit:
        return render("error.html", frame, status_code=403, title="Không có quyền", message=_VIEWER, hint="")
    return render("document_form.html", frame, form={}, errors={}, **await _form_context(request, frame))


_VIEWER = "Tài khoản chỉ xem không đăng ký văn bản được; hãy nhờ người có quyền cập nhật."


@post("/van-ban/moi", status_code=303)
async def create_document(
    request: Request[Any, Any, State], caller: NamedDependency[Caller], form: Posted
) -> Response[Any]:
    """Register a document entered by the caller's committee, with every check of `POST /api/v1/documents`."""
    frame = Page(caller, caller.unit, request.url.path)
    fields = read_document_form(form)
    if form.ok and fields["signed_on"] is not None:
        data = DocumentCreate(**fields)
        made = await form.save(lambda conn: register_document(conn, caller, data), partial(refused_on_form, form))
        if made:
            return Redirect(f"/van-ban/{made.value.id}?created=true", status_code=303)
    return form.again("document_form.html", frame, await _form_context(request, frame))


PAGES = (documents_xlsx, documents_page, new_document_form, create_document, document_page, *ui_edit.PAGES)
