"""Report deadlines (D25, D25a, D25b): issuing after approval, due dates cascading down the tree, timeliness."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from shared.domain.errors import ScheduleError

ISSUANCE_DAYS = 10
"""D25: a report is submitted for issuing no later than this many days after the committee approved it."""

ISSUANCE_DAYS_ASSUMPTION_VI = (
    "Thời hạn hoàn thiện báo cáo trình ban hành được tính theo ngày lịch (kể cả ngày nghỉ), "
    "kể từ ngày cấp ủy thông qua."
)
"""Assumption shown in the UI: the source says "10 ngày" without saying working days, so calendar days count."""

DEFAULT_LEAD_DAYS = 14
"""D25a: in practice units report about two weeks before the level above them reports upward."""


class Timeliness(enum.StrEnum):
    """Whether a report or contribution arrived in time (D25b); the value is the label users read."""

    ON_TIME = "Đúng hạn"
    LATE = "Trễ hạn"
    PENDING = "Chưa đến hạn"
    OVERDUE = "Quá hạn, chưa nộp"


@dataclass(frozen=True, slots=True)
class LeadTimes:
    """Days by which each depth's due date precedes the due date of the depth above it (D25a, D21).

    Depth 0 is the province. `by_depth` holds `(depth, days)` pairs overriding `default_days` for that depth;
    depth 2 with 7 days means base units are due 7 days before their district.
    """

    default_days: int = DEFAULT_LEAD_DAYS
    by_depth: tuple[tuple[int, int], ...] = ()

    def __post_init__(self) -> None:
        depths = [depth for depth, _ in self.by_depth]
        if len(set(depths)) != len(depths) or any(depth < 1 for depth in depths):
            raise ScheduleError(
                "lead.depth",
                "Mỗi cấp chỉ được đặt một thời gian đi trước, và chỉ cho các cấp dưới cấp tỉnh.",
                "Each depth may have one lead time, and only depths below the province (≥ 1).",
            )
        if self.default_days < 0 or any(days < 0 for _, days in self.by_depth):
            raise ScheduleError("lead.negative", "Số ngày đi trước không được âm.", "Lead days must not be negative.")

    @classmethod
    def from_mapping(cls, by_depth: Mapping[int, int], default_days: int = DEFAULT_LEAD_DAYS) -> LeadTimes:
        return cls(default_days=default_days, by_depth=tuple(sorted(by_depth.items())))

    def days_for(self, depth: int) -> int:
        """The lead of `depth` over the depth just above it."""
        return dict(self.by_depth).get(depth, self.default_days)


DEFAULT_LEAD_TIMES = LeadTimes()


def issuance_deadline(approved_on: date, days: int = ISSUANCE_DAYS) -> date:
    """The last day to submit the finished report for issuing (D25): approval date + `days` calendar days."""
    if days < 0:
        raise ScheduleError("issuance.days", "Số ngày không được âm.", "The number of days must not be negative.")
    return approved_on + timedelta(days=days)


def is_issuance_late(
    approved_on: date, *, today: date, issued_on: date | None = None, days: int = ISSUANCE_DAYS
) -> bool:
    """True when the report was, or by `today` still unissued is, past its issuance deadline (D25)."""
    if issued_on is not None and issued_on < approved_on:
        raise ScheduleError(
            "issuance.before_approval",
            "Ngày trình ban hành không thể trước ngày cấp ủy thông qua.",
            "A report cannot be issued before the committee approved it.",
        )
    deadline = issuance_deadline(approved_on, days)
    return (issued_on if issued_on is not None else today) > deadline


def cascade_due_dates(
    top_due: date, depths: Iterable[int], lead: LeadTimes = DEFAULT_LEAD_TIMES, *, top_depth: int = 0
) -> dict[int, date]:
    """Due date of each depth when the unit at `top_depth` (the province by default) is due on `top_due` (D25a).

    Each depth is due its lead time before the depth above it, so leads add up going down. The result is keyed
    by depth in ascending order.
    """
    wanted = sorted(set(depths))
    if wanted and wanted[0] < top_depth:
        raise ScheduleError(
            "cascade.depth",
            "Cấp được tính hạn phải ở dưới hoặc bằng cấp đặt hạn.",
            "Every depth must be at or below the depth that sets the due date.",
        )
    due_dates: dict[int, date] = {}
    offset = 0
    depth = top_depth
    for target in wanted:
        while depth < target:
            depth += 1
            offset += lead.days_for(depth)
        due_dates[target] = top_due - timedelta(days=offset)
    return due_dates


def is_on_time(submitted_on: date, due: date) -> bool:
    """On time means submitted on or before the due date (D25b)."""
    return submitted_on <= due


def timeliness(due: date, *, today: date, submitted_on: date | None = None) -> Timeliness:
    """The timeliness of one expected report as seen on `today` (D25b)."""
    if submitted_on is not None:
        return Timeliness.ON_TIME if is_on_time(submitted_on, due) else Timeliness.LATE
    return Timeliness.PENDING if today <= due else Timeliness.OVERDUE
