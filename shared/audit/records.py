"""Audit entries (D27): one append-only synced record per local write, telling who changed what, when and where.

An entry is owned by the owner of the record it audits: the instance that may write that record (single writer) is
the only one that writes its entries, and the entry travels up exactly as far as its record may. Entries of types
with a ceiling (members, survey respondents: personal data) are a second type that stops at the parent, so no
personal data, not even a field's old value, goes above its record's own ceiling.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
from sqlalchemy import JSON, BigInteger, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.meta import Base, Envelope, Id
from shared.sync.registry import ROOT, Audience, Record, RecordType

ACTIONS = ("create", "update", "delete")
VIA = ("web", "api", "import", "cli", "system")
"""How the write came in: a page, the JSON API, a file import (page or API), a CLI command, the program itself."""
PERSONAL_CEILING = 1
"""Where personal records stop (members, survey respondents): their entries stop there too."""


class FieldChange(msgspec.Struct, frozen=True):
    """One field of a write: its value before and after, as text (None: the record did not exist yet)."""

    field: str
    old: str | None
    new: str | None


class _AuditColumns(Envelope):
    record_type: Mapped[str] = mapped_column(String(64), index=True)
    record_id: Mapped[uuid.UUID] = mapped_column(Id, index=True)
    record_rev: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(10))
    changes: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    account: Mapped[uuid.UUID | None] = mapped_column(Id)
    username: Mapped[str] = mapped_column(String(100), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    actor_unit: Mapped[uuid.UUID | None] = mapped_column(Id)
    role: Mapped[str] = mapped_column(String(20))
    via: Mapped[str] = mapped_column(String(10))
    instance: Mapped[uuid.UUID | None] = mapped_column(Id)
    address: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class AuditEntryRow(_AuditColumns, Base):
    __tablename__ = "audit_entries"


class AuditPersonalRow(_AuditColumns, Base):
    __tablename__ = "audit_entries_personal"


class AuditEntryRecord(Record, frozen=True):
    record_type: str
    record_id: uuid.UUID
    record_rev: int
    action: str
    """One of ACTIONS."""
    changes: list[FieldChange]
    account: uuid.UUID | None
    """The account on the writing instance (accounts are local); None for the program itself or a bare CLI."""
    username: str
    full_name: str
    actor_unit: uuid.UUID | None
    role: str
    via: str
    """One of VIA."""
    instance: uuid.UUID | None
    """The unit of the instance that wrote it (None: the provincial hub)."""
    address: str
    """The client's address as the instance saw it ("" for the CLI)."""
    at: datetime
    """The writing instance's own clock: shown as such, never used for ordering (clocks lie)."""


def validate(rec: AuditEntryRecord) -> str | None:
    """Append-only: an entry is written once (rev 1) and never revised or deleted, wherever it arrives."""
    if rec.rev != 1 or rec.deleted:
        return "Nhật ký thao tác chỉ được ghi thêm: không sửa, không xóa"
    if rec.action not in ACTIONS or rec.via not in VIA:
        return f"Nhật ký thao tác có loại “{rec.action}”/“{rec.via}” không hợp lệ"
    return None


AUDIT_ENTRY = RecordType(
    name="audit_entry",
    struct=AuditEntryRecord,
    model=AuditEntryRow,
    ceiling=ROOT,
    audience=Audience.NONE,
    validate=validate,
)
AUDIT_PERSONAL = RecordType(
    name="audit_entry_personal",
    struct=AuditEntryRecord,
    model=AuditPersonalRow,
    ceiling=PERSONAL_CEILING,
    audience=Audience.NONE,
    validate=validate,
    personal=True,
)
AUDIT_TYPES = (AUDIT_ENTRY, AUDIT_PERSONAL)


def entry_type(audited: RecordType) -> RecordType:
    """Where entries of `audited` go: with no ceiling to the root, else no higher than personal records."""
    if audited.ceiling is None:
        return AUDIT_ENTRY
    if audited.ceiling < PERSONAL_CEILING:
        raise TypeError(f"{audited.name} stops below the personal ceiling; its audit entries would go above it")
    return AUDIT_PERSONAL
