"""The shapes of essays at the boundary: API bodies and answers, also read by forms."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import msgspec


class EssayTemplate(msgspec.Struct, frozen=True):
    id: uuid.UUID
    unit: uuid.UUID
    """The summoning level whose lead agency wrote it; it reaches that level's subtree only (D11)."""
    rev: int
    document: uuid.UUID
    title: str
    for_whom: str
    questions: list[str]
    issued_on: date


class EssayTemplateCreate(msgspec.Struct, frozen=True):
    document: uuid.UUID
    title: str
    questions: list[str]
    issued_on: date
    for_whom: str = ""
    unit: uuid.UUID | None = None


class EssayTemplateUpdate(msgspec.Struct, frozen=True):
    rev: int | msgspec.UnsetType = msgspec.UNSET
    title: str | msgspec.UnsetType = msgspec.UNSET
    questions: list[str] | msgspec.UnsetType = msgspec.UNSET
    for_whom: str | msgspec.UnsetType = msgspec.UNSET
    issued_on: date | msgspec.UnsetType = msgspec.UNSET


class Essay(msgspec.Struct, frozen=True):
    id: uuid.UUID
    unit: uuid.UUID
    """The grading unit: the level that summoned the member (D13)."""
    rev: int
    member: uuid.UUID
    member_unit: uuid.UUID
    document: uuid.UUID
    attempt: int
    score: Decimal
    score_vi: str
    band: str
    band_en: str
    graded_on: date
    obligation: str
    rewrite_open: bool
    """This attempt is below Trung bình: the member owes a rewrite, unless a later attempt exists (D13)."""


class EssayCreate(msgspec.Struct, frozen=True):
    member: uuid.UUID
    document: uuid.UUID
    score: str
    """As the grader writes it: `8,5` or `8.5` (D13); never a binary float."""
    graded_on: date
    member_unit: uuid.UUID | None = None
    """Needed only when this level does not hold the member's roster (a delegate it summoned)."""
    obligation: str = "obliged"
    unit: uuid.UUID | None = None
    """The grading unit; the caller's by default."""


class EssayUpdate(msgspec.Struct, frozen=True):
    rev: int | msgspec.UnsetType = msgspec.UNSET
    score: str | msgspec.UnsetType = msgspec.UNSET
    graded_on: date | msgspec.UnsetType = msgspec.UNSET


class Rewrite(msgspec.Struct, frozen=True):
    member: uuid.UUID
    member_unit: uuid.UUID
    document: uuid.UUID
    attempt: int
    score: Decimal
    band: str
    graded_on: date
    grader: uuid.UUID


class GroupOut(msgspec.Struct, frozen=True):
    members: int | None
    """On the roster (None where this level does not hold the roster: the figure is the parent's)."""
    wrote: int
    bands: dict[str, int]
    rewrites_open: int


class EssaySummary(msgspec.Struct, frozen=True):
    document: uuid.UUID
    roster_held: bool
    obliged: GroupOut
    encouraged: GroupOut
    shortfall: int | None
    """Obliged members with no essay (D12); encouraged members who wrote nothing are not counted."""
