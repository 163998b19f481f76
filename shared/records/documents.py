"""Party documents (D5–D7): entered by a committee, travelling down to its whole subtree."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import JSON, Date, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.meta import Base, Envelope
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
    continues: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    replaces: Mapped[uuid.UUID | None] = mapped_column(Uuid)


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


def validate(rec: DocumentRecord) -> str | None:
    try:
        if parse_document_number(rec.number).format() != rec.number:
            return f"Số hiệu “{rec.number}” chưa ở dạng chuẩn"
    except DomainError as exc:
        return exc.message_vi
    if not rec.title.strip():
        return "Thiếu trích yếu (tên) văn bản"
    return None


DOCUMENT = RecordType(
    name="document",
    struct=DocumentRecord,
    model=DocumentRow,
    ceiling=ROOT,
    audience=Audience.OWNER,
    validate=validate,  # type: ignore[arg-type]
)
