"""Action programmes (D14, D15) and their progress reports (D18): owned by the unit that builds the programme.

A programme travels down its unit's subtree (the units leading or supporting its tasks read it) and up to the
province; progress travels up only.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import msgspec
from sqlalchemy import JSON, Date, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.meta import Base, Envelope, Id
from shared.sync.registry import ROOT, Audience, Record, RecordType

PROGRAMME_KINDS = ("programme", "plan")
"""D14: chương trình hành động, kế hoạch hành động."""


class Target(msgspec.Struct, frozen=True):
    """A quantitative target (D15): indicator, unit of measure, baseline with its source, target value, deadline."""

    key: uuid.UUID
    """Stable across edits of the programme: progress reports refer to it."""
    indicator: str
    measure: str
    baseline: Decimal
    baseline_source: str
    target_value: Decimal
    deadline: date


class Task(msgspec.Struct, frozen=True):
    key: uuid.UUID
    title: str
    lead_unit: uuid.UUID
    supporting_units: list[uuid.UUID] = msgspec.field(default_factory=list)
    deadline: date | None = None


class ActionProgrammeRow(Envelope, Base):
    __tablename__ = "action_programmes"

    document: Mapped[uuid.UUID] = mapped_column(Id, index=True)
    kind: Mapped[str] = mapped_column(String(20))
    number: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(Text)
    issued_on: Mapped[date] = mapped_column(Date)
    situation: Mapped[str] = mapped_column(Text)
    targets: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    tasks: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)


class ActionProgrammeRecord(Record, frozen=True):
    document: uuid.UUID
    kind: str
    number: str
    title: str
    issued_on: date
    situation: str
    """D15: the survey and assessment of the real situation, with data, the targets were built on."""
    targets: list[Target]
    tasks: list[Task]


class ProgressRow(Envelope, Base):
    __tablename__ = "programme_progress"

    programme: Mapped[uuid.UUID] = mapped_column(Id, index=True)
    target: Mapped[uuid.UUID] = mapped_column(Id)
    year: Mapped[int] = mapped_column(Integer)
    reported_on: Mapped[date] = mapped_column(Date)
    value: Mapped[Decimal] = mapped_column(Numeric(20, 4))
    note: Mapped[str] = mapped_column(Text)


class ProgressRecord(Record, frozen=True):
    """The value a target reached by the end of `year` (D15, D18)."""

    programme: uuid.UUID
    target: uuid.UUID
    year: int
    reported_on: date
    value: Decimal
    note: str = ""


def validate_programme(rec: ActionProgrammeRecord) -> str | None:
    if rec.kind not in PROGRAMME_KINDS:
        return f"Loại “{rec.kind}” không hợp lệ (programme/plan) (D14)"
    if not rec.title.strip():
        return "Thiếu tên chương trình hành động (D14)"
    for t in rec.targets:
        if not (t.indicator.strip() and t.measure.strip() and t.baseline_source.strip()):
            return "Chỉ tiêu phải có chỉ số, đơn vị tính và nguồn số liệu gốc (D15)"
    return None


def validate_progress(rec: ProgressRecord) -> str | None:
    return None if rec.value.is_finite() else "Giá trị tiến độ không hợp lệ (D18)"


ACTION_PROGRAMME = RecordType(
    name="action_programme",
    struct=ActionProgrammeRecord,
    model=ActionProgrammeRow,
    ceiling=ROOT,
    audience=Audience.OWNER,
    validate=validate_programme,
)
PROGRAMME_PROGRESS = RecordType(
    name="programme_progress",
    struct=ProgressRecord,
    model=ProgressRow,
    ceiling=ROOT,
    audience=Audience.NONE,
    validate=validate_progress,
)
