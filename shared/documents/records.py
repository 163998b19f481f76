"""Party documents (D5–D7): entered by a committee, travelling down to its whole subtree."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import JSON, Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.meta import Base, Envelope, Id
from shared.domain.calendar import IssuingLevel
from shared.domain.docnumbers import parse_document_number
from shared.domain.errors import DomainError
from shared.sync.registry import ROOT, Audience, Record, RecordType


class DocumentRow(Envelope, Base):
    __tablename__ = "documents"

    number: Mapped[str] = mapped_column(String(60), index=True)
    title: Mapped[str] = mapped_column(Text)
    signed_on: Mapped[date] = mapped_column(Date)
    issuer: Mapped[str] = mapped_column(String(200))
    lead_agency: Mapped[str] = mapped_column(String(300))
    applies_to: Mapped[list[str]] = mapped_column(JSON, default=list)
    continues: Mapped[uuid.UUID | None] = mapped_column(Id)
    replaces: Mapped[uuid.UUID | None] = mapped_column(Id)
    term: Mapped[str] = mapped_column(String(20), default="", server_default="")
    level: Mapped[str] = mapped_column(String(20), default="", server_default="")


class DocumentRecord(Record, frozen=True):
    number: str
    """Canonical form, e.g. `15-NQ/TU` (D5a)."""
    title: str
    signed_on: date
    issuer: str
    """The issuing body as written (Ban Chấp hành Trung ương, Tỉnh ủy ...)."""
    lead_agency: str
    applies_to: list[uuid.UUID]
    """Units it applies to (D6); empty means the owner's whole subtree."""
    continues: uuid.UUID | None = None
    """The document it continues after a final review (D7)."""
    replaces: uuid.UUID | None = None
    term: str = ""
    """The issuing committee's term, e.g. `2020-2025`: numbering restarts each term, so it is part of the key (D5a)."""
    level: str = ""
    """Row of the review rule table it follows (`IssuingLevel` name: CENTRAL, PROVINCE, LOWER), fixed at entry (D16)."""


def validate(rec: DocumentRecord) -> str | None:
    try:
        if parse_document_number(rec.number).format() != rec.number:
            return f"Số hiệu “{rec.number}” chưa ở dạng chuẩn"
    except DomainError as exc:
        return exc.message_vi
    if not rec.title.strip():
        return "Thiếu trích yếu (tên) văn bản"
    if rec.level and rec.level not in IssuingLevel.__members__:
        return f"Cấp ban hành “{rec.level}” không hợp lệ"
    if rec.continues is not None and rec.replaces is not None:
        return "Văn bản chỉ tiếp tục thực hiện hoặc thay thế một văn bản, không cả hai (D7)"
    return None


DOCUMENT = RecordType(
    name="document",
    struct=DocumentRecord,
    model=DocumentRow,
    ceiling=ROOT,
    audience=Audience.OWNER,
    validate=validate,
)
