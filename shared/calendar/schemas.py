"""The shapes of calendar at the boundary: API bodies and answers, also read by forms."""

from __future__ import annotations

import uuid
from datetime import date

import msgspec

from shared.calendar.records import (
    PlanItem,
)


class Step(msgspec.Struct, frozen=True):
    depth: int
    due: date


class MilestoneOut(msgspec.Struct, frozen=True):
    document: uuid.UUID
    document_number: str
    kind: str
    """`preliminary` (sơ kết) or `final` (tổng kết)."""
    kind_vi: str
    scheduled_due: date
    """From the rule table (D16)."""
    due: date
    """After any override (D17)."""
    moved: bool
    override_reason: str | None
    instructing_document: str | None
    plan_deadline: date
    """D20: the plan must be issued by this day (2 months before the due date)."""
    cut_off: date
    """D20: figures count up to this day."""
    status: str
    """upcoming, plan_due, overdue or done, for the unit asked about."""
    status_vi: str
    unit_due: date
    """When the unit asked about holds its review: base units first, each level up later (D21)."""
    steps: list[Step]


class DocumentCalendar(msgspec.Struct, frozen=True):
    document: uuid.UUID
    level: str
    milestones: list[MilestoneOut]
    annual_evaluations: list[date]
    """D18: the yearly evaluations while the document is in force."""
    assumptions: list[str]


class UnitReview(msgspec.Struct, frozen=True):
    unit: uuid.UUID
    code: str
    name: str
    depth: int
    due: date
    held_on: date | None


class Override(msgspec.Struct, frozen=True):
    id: uuid.UUID
    unit: uuid.UUID
    rev: int
    document: uuid.UUID
    kind: str
    due: date
    reason: str
    instructing_document: str


class OverrideCreate(msgspec.Struct, frozen=True):
    document: uuid.UUID
    kind: str
    due: date
    reason: str
    instructing_document: str
    """Number of the directing document, e.g. `12-CV/TU` (D5a)."""
    unit: uuid.UUID | None = None


class OverrideUpdate(msgspec.Struct, frozen=True):
    rev: int | msgspec.UnsetType = msgspec.UNSET
    due: date | msgspec.UnsetType = msgspec.UNSET
    reason: str | msgspec.UnsetType = msgspec.UNSET
    instructing_document: str | msgspec.UnsetType = msgspec.UNSET


class Plan(msgspec.Struct, frozen=True):
    id: uuid.UUID
    unit: uuid.UUID
    rev: int
    plan_kind: str
    number: str
    issued_on: date
    period_start: date
    period_end: date
    items: list[PlanItem]
    late: list[str]
    """What the plan was issued late for: the term's first year, the year before, or 2 months before a review (D19,
    D20). Empty when on time."""


class PlanCreate(msgspec.Struct, frozen=True):
    plan_kind: str
    """`term`, `year` or `addition`."""
    number: str
    issued_on: date
    period_start: date | None = None
    """Term plans: the congress term's first day."""
    period_end: date | None = None
    year: int | None = None
    """Year plans: the year the plan is for."""
    items: list[PlanItem] = msgspec.field(default_factory=list)
    """Additions: the reviews added. Term and year plans take every review due in the period."""
    unit: uuid.UUID | None = None


class PlanUpdate(msgspec.Struct, frozen=True):
    """A correction of an issued plan (D19): fields left out keep their value; `plan_kind` and `unit` are fixed
    (refused if they differ)."""

    rev: int | msgspec.UnsetType = msgspec.UNSET
    number: str | msgspec.UnsetType = msgspec.UNSET
    issued_on: date | msgspec.UnsetType = msgspec.UNSET
    period_start: date | msgspec.UnsetType = msgspec.UNSET
    """Term plans: the congress term's first day (the period runs five full years from it unless `period_end`)."""
    period_end: date | msgspec.UnsetType = msgspec.UNSET
    year: int | msgspec.UnsetType = msgspec.UNSET
    """Year plans: the year the plan is for."""
    items: list[PlanItem] | msgspec.UnsetType = msgspec.UNSET
    """Additions: the reviews added (their due dates come from the calendar)."""
    plan_kind: str | msgspec.UnsetType = msgspec.UNSET
    unit: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET


class Project(msgspec.Struct, frozen=True):
    id: uuid.UUID
    unit: uuid.UUID
    rev: int
    document: uuid.UUID
    kind: str
    title: str
    proposed_on: date
    approved_on: date | None


class ProjectCreate(msgspec.Struct, frozen=True):
    document: uuid.UUID
    kind: str
    title: str
    proposed_on: date
    unit: uuid.UUID | None = None


class ProjectUpdate(msgspec.Struct, frozen=True):
    rev: int | msgspec.UnsetType = msgspec.UNSET
    title: str | msgspec.UnsetType = msgspec.UNSET
    approved_on: date | msgspec.UnsetType | None = msgspec.UNSET


class ReviewHeld(msgspec.Struct, frozen=True):
    id: uuid.UUID
    unit: uuid.UUID
    rev: int
    document: uuid.UUID
    kind: str
    held_on: date
    cut_off: date
    report_number: str
    waived_reason: str


class ReviewHeldCreate(msgspec.Struct, frozen=True):
    document: uuid.UUID
    kind: str
    held_on: date
    report_number: str = ""
    waived_reason: str = ""
    """Why the review is recorded before every unit below has held its own (D21)."""
    unit: uuid.UUID | None = None
