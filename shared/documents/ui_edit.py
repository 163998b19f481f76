"""Correcting a document from its page (a typo in the number or title, the wrong date) and withdrawing one entered
by mistake: only the entering committee's instance writes it (single writer), every check of the API applies (D5-D7),
and an edit made on an older version is refused rather than overwriting."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect

from shared.core.errors import Refusal
from shared.core.scope import Caller, units_info, writes_here
from shared.documents.records import DocumentRecord
from shared.documents.schemas import Document, DocumentUpdate
from shared.documents.service import DOCUMENTS, document_out, visible_documents
from shared.domain.formatting import format_date
from shared.ui.forms import GENERAL, Form, Posted
from shared.ui.web import Page, render


def read_document_form(form: Form) -> dict[str, Any]:
    """The document fields of the register and edit forms, each problem next to its field."""
    number = form.text("number", required="Nhập số, ký hiệu văn bản, ví dụ 15-NQ/TU.")
    title = form.text("title", required="Nhập trích yếu (tên) văn bản.")
    signed_on = form.day("signed_on")
    lead_agency = form.text("lead_agency", required="Nhập cơ quan chủ trì tham mưu.")
    issuer = form.text("issuer")
    term = form.text("term")
    earlier = form.ident("earlier")
    link = form.choice("link", ("", "continues", "replaces"), message="Chọn quan hệ với văn bản trước.")
    if earlier is not None and not link:
        form.errors["link"] = "Chọn «tiếp tục thực hiện» hoặc «thay thế» văn bản đã chọn."
    return {
        "number": number,
        "title": title,
        "signed_on": signed_on,
        "lead_agency": lead_agency,
        "issuer": issuer,
        "term": term,
        "continues": earlier if link == "continues" else None,
        "replaces": earlier if link == "replaces" else None,
    }


def refused_on_form(form: Form, exc: Refusal) -> None:
    """A refusal next to its field; the link to an earlier document is one field on the form."""
    if exc.problem.field in ("continues", "replaces"):
        form.errors["earlier"] = exc.problem.message
    elif exc.problem.field == "rev":
        form.errors[GENERAL] = exc.problem.message
    else:
        form.refused(exc)


def _values(doc: Document) -> dict[str, str]:
    earlier = doc.continues or doc.replaces
    return {
        "number": doc.number,
        "title": doc.title,
        "signed_on": format_date(doc.signed_on),
        "lead_agency": doc.lead_agency,
        "issuer": doc.issuer,
        "term": doc.term,
        "earlier": str(earlier) if earlier else "",
        "link": "continues" if doc.continues else "replaces" if doc.replaces else "",
        "rev": str(doc.rev),
    }


async def _context(request: Request[Any, Any, State], frame: Page, doc_id: uuid.UUID) -> dict[str, Any]:
    async with request.app.state.db.read() as conn:
        doc: DocumentRecord = await DOCUMENTS.get(conn, frame.me, doc_id)
        owner = (await units_info(conn, [doc.owner]))[doc.owner]
        writable = frame.can_edit and frame.me.unit.covers(owner) and await writes_here(conn, owner)
        docs = [d for d in await visible_documents(conn, frame.viewer) if d.id != doc.id]
    return {
        "editing": document_out(doc),
        "owner": owner,
        "writable": writable,
        "docs": sorted(docs, key=lambda d: d.signed_on, reverse=True),
        "form": _values(document_out(doc)),
        "errors": {},
        "remove_errors": {},
    }


@get("/van-ban/{doc_id:uuid}/sua")
async def edit_form(
    request: Request[Any, Any, State], caller: NamedDependency[Caller], doc_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """The document's fields to correct, and the withdraw form (the entering committee only)."""
    frame = Page(caller, caller.unit, request.url.path)
    context = await _context(request, frame, doc_id)
    return render("document_form.html", frame, **context)


@post("/van-ban/{doc_id:uuid}/sua", status_code=303)
async def edit(
    request: Request[Any, Any, State], caller: NamedDependency[Caller], form: Posted, doc_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Write the corrected document as its next rev; it travels down again on the next sync."""
    frame = Page(caller, caller.unit, request.url.path)
    fields = read_document_form(form)
    rev = form.text("rev")
    if form.ok and fields["signed_on"] is not None:
        update = DocumentUpdate(rev=int(rev) if rev.isdigit() else msgspec.UNSET, **fields)
        if await form.save(lambda conn: DOCUMENTS.revise(conn, caller, doc_id, update), partial(refused_on_form, form)):
            return Redirect(f"/van-ban/{doc_id}?edited=true", status_code=303)
    return form.again("document_form.html", frame, await _context(request, frame, doc_id))


@post("/van-ban/{doc_id:uuid}/rut", status_code=303)
async def withdraw(
    request: Request[Any, Any, State], caller: NamedDependency[Caller], form: Posted, doc_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Withdraw a document entered by mistake: a tombstone that travels down like the document."""
    frame = Page(caller, caller.unit, request.url.path)
    rev = form.text("rev")
    if not form.text("confirm"):
        form.errors[GENERAL] = "Hãy đánh dấu ô xác nhận trước khi rút văn bản."
    if form.ok and await form.save(
        lambda conn: DOCUMENTS.delete(conn, caller, doc_id, int(rev) if rev.isdigit() else None), form.refused_above
    ):
        return Redirect("/van-ban?withdrawn=true", status_code=303)
    return form.again("document_form.html", frame, await _context(request, frame, doc_id), prefix="remove_")


PAGES = (edit_form, edit, withdraw)
