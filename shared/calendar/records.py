"""The review calendar as records (D16-D21): overrides and plans travel down, projects and held reviews travel up."""

from __future__ import annotations

import uuid
from datetime import date

import msgspec
from sqlalchemy import JSON, Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.meta import Base, Envelope, Id
from shared.domain.calendar import ReviewKind
from shared.sync.registry import ROOT, Audience, Record, RecordType

REVIEW_KINDS = tuple(k.name.lower() for k in ReviewKind)
"""`preliminary` (sơ kết) and `final` (tổng kết) on the wire and in the API."""
PLAN_KINDS = ("term", "year", "addition")
"""D19: the congress-term plan, the year-end plan for next year, and reviews added during the year."""


class ReviewOverrideRow(Envelope, Base):
    __tablename__ = "review_overrides"

    document: Mapped[uuid.UUID] = mapped_column(Id, index=True)
    kind: Mapped[str] = mapped_column(String(20))
    due: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    instructing_document: Mapped[str] = mapped_column(String(60))


class ReviewOverrideRecord(Record, frozen=True):
    """A review moved on Central's or the province's direction (D17); owned by the directing committee."""

    document: uuid.UUID
    kind: str
    due: date
    reason: str
    instructing_document: str


class PlanItem(msgspec.Struct, frozen=True):
    document: uuid.UUID
    kind: str
    due: date


class ReviewPlanRow(Envelope, Base):
    __tablename__ = "review_plans"

    plan_kind: Mapped[str] = mapped_column(String(20))
    number: Mapped[str] = mapped_column(String(60))
    issued_on: Mapped[date] = mapped_column(Date)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    items: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)


class ReviewPlanRecord(Record, frozen=True):
    """A committee's plan of reviews falling due in a term or a year, or added during the year (D19)."""

    plan_kind: str
    number: str
    issued_on: date
    period_start: date
    period_end: date
    items: list[PlanItem]


class ReviewProjectRow(Envelope, Base):
    __tablename__ = "review_projects"

    document: Mapped[uuid.UUID] = mapped_column(Id, index=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(Text)
    proposed_on: Mapped[date] = mapped_column(Date)
    approved_on: Mapped[date | None] = mapped_column(Date)


class ReviewProjectRecord(Record, frozen=True):
    """A review project (đề án) the lead agency proposes (D21)."""

    document: uuid.UUID
    kind: str
    title: str
    proposed_on: date
    approved_on: date | None = None


class ReviewReportRow(Envelope, Base):
    __tablename__ = "review_reports"

    document: Mapped[uuid.UUID] = mapped_column(Id, index=True)
    kind: Mapped[str] = mapped_column(String(20))
    held_on: Mapped[date] = mapped_column(Date)
    cut_off: Mapped[date] = mapped_column(Date)
    report_number: Mapped[str] = mapped_column(String(60))
    waived_reason: Mapped[str] = mapped_column(Text)


class ReviewReportRecord(Record, frozen=True):
    """A unit has held its review of a document: the milestone is done for that unit (D16, D20, D21)."""

    document: uuid.UUID
    kind: str
    held_on: date
    cut_off: date
    """D20: the figures count up to the review's due date, not the day the report was written."""
    report_number: str = ""
    waived_reason: str = ""
    """Why it was held before every unit below it had held theirs (D21), if it was."""


def _kind(kind: str) -> str | None:
    return None if kind in REVIEW_KINDS else f"Loại mốc “{kind}” không hợp lệ (preliminary/final)"


def validate_override(rec: ReviewOverrideRecord) -> str | None:
    if not rec.reason.strip() or not rec.instructing_document.strip():
        return "Điều chỉnh mốc phải ghi lý do và văn bản chỉ đạo (D17)"
    return _kind(rec.kind)


def validate_plan(rec: ReviewPlanRecord) -> str | None:
    if rec.plan_kind not in PLAN_KINDS:
        return f"Loại kế hoạch “{rec.plan_kind}” không hợp lệ"
    if rec.period_end < rec.period_start:
        return "Kỳ kế hoạch kết thúc trước khi bắt đầu (D19)"
    return next((e for e in (_kind(i.kind) for i in rec.items) if e), None)


def validate_project(rec: ReviewProjectRecord) -> str | None:
    return "Thiếu tên đề án" if not rec.title.strip() else _kind(rec.kind)


def validate_report(rec: ReviewReportRecord) -> str | None:
    return _kind(rec.kind)


REVIEW_OVERRIDE = RecordType(
    name="review_override",
    struct=ReviewOverrideRecord,
    model=ReviewOverrideRow,
    ceiling=ROOT,
    audience=Audience.OWNER,
    validate=validate_override,
)
REVIEW_PLAN = RecordType(
    name="review_plan",
    struct=ReviewPlanRecord,
    model=ReviewPlanRow,
    ceiling=ROOT,
    audience=Audience.OWNER,
    validate=validate_plan,
)
REVIEW_PROJECT = RecordType(
    name="review_project",
    struct=ReviewProjectRecord,
    model=ReviewProjectRow,
    ceiling=ROOT,
    audience=Audience.NONE,
    validate=validate_project,
)
REVIEW_REPORT = RecordType(
    name="review_report",
    struct=ReviewReportRecord,
    model=ReviewReportRow,
    ceiling=ROOT,
    audience=Audience.NONE,
    validate=validate_report,
)
