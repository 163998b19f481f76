"""The shapes of documents at the boundary: API bodies and answers, also read by forms."""

from __future__ import annotations

import uuid
from datetime import date

import msgspec


class Document(msgspec.Struct, frozen=True):
    id: uuid.UUID
    unit: uuid.UUID
    """The committee that entered it; it travels down that committee's subtree (D6)."""
    rev: int
    number: str
    title: str
    signed_on: date
    issuer: str
    lead_agency: str
    applies_to: list[uuid.UUID]
    continues: uuid.UUID | None
    replaces: uuid.UUID | None
    term: str
    level: str
    """Row of the review rule table: CENTRAL, PROVINCE or LOWER (D16)."""


class DocumentCreate(msgspec.Struct, frozen=True):
    number: str
    """As written: `15-NQ/TU`, `Số: 15 - NQ/TU` ... stored in canonical form (D5a)."""
    title: str
    signed_on: date
    lead_agency: str
    issuer: str = ""
    """Defaults to Central (for a `/TW` number) or the entering committee's name."""
    applies_to: list[uuid.UUID] = msgspec.field(default_factory=list)
    """Units in the entering committee's subtree; empty = the whole subtree (D6)."""
    continues: uuid.UUID | None = None
    replaces: uuid.UUID | None = None
    term: str = ""
    unit: uuid.UUID | None = None
    """The entering committee; the caller's own unit by default."""


class DocumentUpdate(msgspec.Struct, frozen=True):
    rev: int | msgspec.UnsetType = msgspec.UNSET
    """The version the edit was made on; refused if the record has changed since."""
    number: str | msgspec.UnsetType = msgspec.UNSET
    title: str | msgspec.UnsetType = msgspec.UNSET
    signed_on: date | msgspec.UnsetType = msgspec.UNSET
    lead_agency: str | msgspec.UnsetType = msgspec.UNSET
    issuer: str | msgspec.UnsetType = msgspec.UNSET
    applies_to: list[uuid.UUID] | msgspec.UnsetType = msgspec.UNSET
    continues: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET
    replaces: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET
    term: str | msgspec.UnsetType = msgspec.UNSET
