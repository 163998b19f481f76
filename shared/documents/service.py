"""Documents (D5-D7): register a resolution, directive or conclusion; it travels down to the units it applies to.

The rules, queries and workflow; each function runs in the caller's transaction."""

from __future__ import annotations

import uuid

import msgspec
from sqlalchemy import or_
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.core.errors import Refusal, conflict, invalid
from shared.core.scope import (
    Caller,
    UnitInfo,
    down_select,
    get_visible,
    out,
    page,
    records,
    referred,
    unit_in_scope,
    units_info,
)
from shared.core.service import RecordKind, RecordService, Shapes, another_live
from shared.documents.records import DOCUMENT, DocumentRecord
from shared.documents.schemas import Document, DocumentCreate, DocumentUpdate
from shared.domain.calendar import IssuingLevel, issuing_level_for_depth
from shared.domain.docnumbers import parse_document_number
from shared.domain.errors import DocumentNumberError

WHAT = ("văn bản", "document")


def document_out(rec: DocumentRecord) -> Document:
    return out(rec, Document)


async def visible_document(conn: AsyncConnection, viewer: UnitInfo, doc_id: uuid.UUID, field: str) -> DocumentRecord:
    """A document the viewer holds and may see, else 422 naming the field that referred to it."""
    unknown = invalid(
        field,
        "D6",
        f"Văn bản {doc_id} không có hoặc không được gửi đến đơn vị này.",
        f"Document {doc_id} is unknown or was not sent to this unit.",
        code="unknown_document",
    )
    doc: DocumentRecord = await referred(conn, DOCUMENT, viewer, doc_id, unknown, down=True)
    return doc


def _level(number: str, owner: UnitInfo) -> str:
    parsed = parse_document_number(number)
    return IssuingLevel.CENTRAL.name if parsed.is_central else issuing_level_for_depth(owner.depth).name


async def _check(conn: AsyncConnection, owner: UnitInfo, rec: DocumentRecord) -> DocumentRecord:
    """D5-D7 checks of a document about to be written; returns it with its number canonical and level fixed."""
    rec = msgspec.structs.replace(rec, term=rec.term.strip())
    try:
        number = parse_document_number(rec.number).format()
    except DocumentNumberError as exc:
        raise Refusal.from_domain(exc, field="number", rule="D5a") from None
    if not rec.title.strip():
        raise invalid("title", "D5", "Thiếu trích yếu (tên) văn bản.", "The title is empty.")
    if not rec.lead_agency.strip():
        raise invalid("lead_agency", "D5", "Chưa ghi cơ quan chủ trì tham mưu.", "The lead advisory agency is missing.")
    if rec.applies_to:
        units = await units_info(conn, list(rec.applies_to))
        for unit_id in rec.applies_to:
            unit = units.get(unit_id)
            if unit is None or not owner.covers(unit):
                raise invalid(
                    "applies_to",
                    "D6",
                    f"Đơn vị {unit_id} không thuộc phạm vi của {owner.name}: văn bản chỉ gửi xuống cấp dưới.",
                    f"Unit {unit_id} is not below {owner.code}: a document travels down only.",
                )
    if rec.continues is not None and rec.replaces is not None:
        raise invalid(
            "replaces",
            "D7",
            "Một văn bản hoặc tiếp tục thực hiện, hoặc thay thế văn bản trước, không cả hai.",
            "A document either continues or replaces an earlier one, not both.",
        )
    for field in ("continues", "replaces"):
        earlier = getattr(rec, field)
        if earlier is None:
            continue
        if earlier == rec.id:
            raise invalid(field, "D7", "Văn bản không thể nối tiếp chính nó.", "A document cannot follow itself.")
        await visible_document(conn, owner, earlier, field)
    if await another_live(conn, DOCUMENT, rec, owner=owner.id, number=number, term=rec.term):
        raise conflict(
            "number",
            "D5a",
            f"Đã có văn bản số {number} nhiệm kỳ «{rec.term}» của đơn vị này (số được đánh lại theo từng nhiệm kỳ).",
            f"A document {number} of term «{rec.term}» is already registered here (numbers restart each term).",
            code="duplicate_number",
        )
    issuer = rec.issuer.strip() or ("Trung ương" if number.endswith("/TW") else owner.name)
    return msgspec.structs.replace(rec, number=number, issuer=issuer, level=_level(number, owner))


DOCUMENTS: RecordService[DocumentRecord] = RecordService(
    RecordKind(DOCUMENT, WHAT, _check, down=True, audience_of=lambda data, owner: owner.id),
    Shapes(Document, DocumentCreate, DocumentUpdate),
)
"""Documents travel down to the entering committee's subtree (D6); only that committee's instance writes them."""


async def register_document(conn: AsyncConnection, caller: Caller, data: DocumentCreate) -> Document:
    """Register a document entered by the caller's committee (or one in its subtree), checked by D5-D7."""
    return document_out(await DOCUMENTS.create(conn, caller, data, level=""))  # `_check` sets the level


async def document_lineage(conn: AsyncConnection, viewer: UnitInfo, doc_id: uuid.UUID) -> list[Document]:
    """The chain of documents this one continues or replaces, and those that continue or replace it (D7)."""
    table = DOCUMENT.table
    doc: DocumentRecord = await get_visible(conn, DOCUMENT, viewer, doc_id, down=True, what=WHAT)
    chain = [doc]
    seen = {doc.id}
    cursor = doc
    while (earlier := cursor.continues or cursor.replaces) is not None and earlier not in seen:
        try:
            cursor = await get_visible(conn, DOCUMENT, viewer, earlier, down=True, what=WHAT)
        except Refusal:
            break
        seen.add(cursor.id)
        chain.insert(0, cursor)
    frontier = [doc.id]
    while frontier:
        stmt = down_select(DOCUMENT, viewer).where(
            table.c.deleted.is_(False), or_(table.c.continues.in_(frontier), table.c.replaces.in_(frontier))
        )
        later = [d for d in await records(conn, DOCUMENT, stmt) if d.id not in seen]
        seen.update(d.id for d in later)
        chain.extend(sorted(later, key=lambda d: d.signed_on))
        frontier = [d.id for d in later]
    return [document_out(d) for d in chain]


async def list_documents(
    conn: AsyncConnection,
    caller: Caller,
    unit: uuid.UUID | None = None,
    number: str | None = None,
    after: uuid.UUID | None = None,
    limit: int = 200,
) -> list[Document]:
    """Documents sent to a unit (the caller's by default) or entered in its subtree (D4, D6)."""
    viewer = await unit_in_scope(conn, caller, unit)
    stmt = down_select(DOCUMENT, viewer)
    if number:
        try:
            stmt = stmt.where(DOCUMENT.table.c.number == parse_document_number(number).format())
        except DocumentNumberError as exc:
            raise Refusal.from_domain(exc, field="number", rule="D5a") from None
    docs = await records(conn, DOCUMENT, page(stmt, DOCUMENT, after, limit))
    return [document_out(d) for d in docs]


async def visible_documents(conn: AsyncConnection, viewer: UnitInfo) -> list[DocumentRecord]:
    """Every live document a viewer holds: sent down to it or entered in its subtree (D4, D6)."""
    table = DOCUMENT.table
    return await records(conn, DOCUMENT, down_select(DOCUMENT, viewer).where(table.c.deleted.is_(False)))


async def newest_documents(conn: AsyncConnection, viewer: UnitInfo) -> list[DocumentRecord]:
    """`visible_documents` newest first: the order the pages offer them in (to choose, to filter by)."""
    return sorted(await visible_documents(conn, viewer), key=lambda d: d.signed_on, reverse=True)
