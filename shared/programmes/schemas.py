"""The shapes action programmes, their targets and progress take at the boundary: API bodies and answers, forms."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import msgspec

from shared.programmes.records import Target, Task

TARGET_STATE_LABELS_VI = {"on_track": "Đang thực hiện", "met": "Đạt", "overdue": "Quá hạn chưa đạt"}
KIND_LABELS_VI = {"programme": "Chương trình hành động", "plan": "Kế hoạch hành động"}


class TargetIn(msgspec.Struct, frozen=True):
    indicator: str
    """What is measured (chỉ tiêu), e.g. "Tỷ lệ đảng viên viết bài thu hoạch"."""
    measure: str
    """Unit of measure (đơn vị tính): %, người, lượt ..."""
    baseline: Decimal
    baseline_source: str
    """Where the baseline comes from (D15: the survey of the real situation)."""
    target_value: Decimal
    deadline: date
    key: uuid.UUID | None = None
    """Keep the key of an existing target when editing, so its progress stays attached."""


class TaskIn(msgspec.Struct, frozen=True):
    title: str
    lead_unit: uuid.UUID
    supporting_units: list[uuid.UUID] = msgspec.field(default_factory=list)
    deadline: date | None = None
    key: uuid.UUID | None = None


class TargetProgress(msgspec.Struct, frozen=True):
    key: uuid.UUID
    latest_year: int | None
    latest_value: Decimal | None
    achieved: bool
    """The latest value has reached the target value (in the direction from the baseline)."""
    state: str = "on_track"
    """on_track, met or overdue (`shared.domain.programmes.target_state`, D18)."""


class Programme(msgspec.Struct, frozen=True):
    id: uuid.UUID
    unit: uuid.UUID
    """The unit that built it; it reaches that unit's subtree and travels up to the province."""
    rev: int
    document: uuid.UUID
    kind: str
    number: str
    title: str
    issued_on: date
    situation: str
    targets: list[Target]
    tasks: list[Task]
    progress: list[TargetProgress] = msgspec.field(default_factory=list)


class ProgrammeCreate(msgspec.Struct, frozen=True):
    document: uuid.UUID
    title: str
    issued_on: date
    situation: str
    """D15: the survey and assessment of the real situation, with data, done before building the programme."""
    targets: list[TargetIn]
    tasks: list[TaskIn] = msgspec.field(default_factory=list)
    kind: str = "programme"
    """`programme` (chương trình hành động) or `plan` (kế hoạch)."""
    number: str = ""
    """Its own number, e.g. `05-CTr/HU` (D5a), once issued."""
    unit: uuid.UUID | None = None


class ProgrammeUpdate(msgspec.Struct, frozen=True):
    rev: int | msgspec.UnsetType = msgspec.UNSET
    title: str | msgspec.UnsetType = msgspec.UNSET
    number: str | msgspec.UnsetType = msgspec.UNSET
    issued_on: date | msgspec.UnsetType = msgspec.UNSET
    situation: str | msgspec.UnsetType = msgspec.UNSET
    targets: list[TargetIn] | msgspec.UnsetType = msgspec.UNSET
    tasks: list[TaskIn] | msgspec.UnsetType = msgspec.UNSET


class ProgrammeCoverageRow(msgspec.Struct, frozen=True):
    unit: uuid.UUID
    code: str
    name: str
    depth: int
    programme: uuid.UUID | None
    issued_on: date | None


class Progress(msgspec.Struct, frozen=True):
    id: uuid.UUID
    unit: uuid.UUID
    rev: int
    programme: uuid.UUID
    target: uuid.UUID
    year: int
    reported_on: date
    value: Decimal
    note: str


class ProgressCreate(msgspec.Struct, frozen=True):
    programme: uuid.UUID
    target: uuid.UUID
    year: int
    """The year the figure is for; at least one report per target per year (D18)."""
    value: Decimal
    reported_on: date
    note: str = ""
