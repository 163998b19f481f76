"""D25, D25a, D25b: issuing after approval, due dates cascading down the tree, timeliness."""

from datetime import date

import pytest

from shared.domain.deadlines import (
    DEFAULT_LEAD_TIMES,
    ISSUANCE_DAYS_ASSUMPTION_VI,
    LeadTimes,
    Timeliness,
    cascade_due_dates,
    is_issuance_late,
    is_on_time,
    issuance_deadline,
    timeliness,
)
from shared.domain.errors import ScheduleError


@pytest.mark.parametrize(
    ("approved_on", "days", "deadline"),
    [
        (date(2024, 3, 1), 10, date(2024, 3, 11)),
        (date(2024, 2, 25), 10, date(2024, 3, 6)),
        (date(2023, 2, 25), 10, date(2023, 3, 7)),
        (date(2024, 12, 28), 10, date(2025, 1, 7)),
        (date(2024, 3, 1), 15, date(2024, 3, 16)),
        (date(2024, 3, 1), 0, date(2024, 3, 1)),
    ],
)
def test_d25_issuance_deadline(approved_on: date, days: int, deadline: date) -> None:
    assert issuance_deadline(approved_on, days) == deadline


def test_d25_issuance_deadline_defaults_to_ten_calendar_days() -> None:
    assert issuance_deadline(date(2024, 4, 26)) == date(2024, 5, 6)
    assert "ngày lịch" in ISSUANCE_DAYS_ASSUMPTION_VI


def test_d25_issuance_days_must_not_be_negative() -> None:
    with pytest.raises(ScheduleError):
        issuance_deadline(date(2024, 3, 1), -1)


@pytest.mark.parametrize(
    ("issued_on", "today", "late"),
    [
        (date(2024, 3, 1), date(2024, 6, 1), False),
        (date(2024, 3, 11), date(2024, 6, 1), False),
        (date(2024, 3, 12), date(2024, 6, 1), True),
        (None, date(2024, 3, 5), False),
        (None, date(2024, 3, 11), False),
        (None, date(2024, 3, 12), True),
        # An issued report is judged by its issue date, whatever today is.
        (date(2024, 3, 10), date(2024, 3, 30), False),
    ],
)
def test_d25_late_flag(issued_on: date | None, today: date, late: bool) -> None:
    assert is_issuance_late(date(2024, 3, 1), today=today, issued_on=issued_on) is late


def test_d25_late_flag_follows_the_configured_days() -> None:
    assert is_issuance_late(date(2024, 3, 1), today=date(2024, 3, 9), days=7) is True
    assert is_issuance_late(date(2024, 3, 1), today=date(2024, 3, 8), days=7) is False


def test_d25_issue_before_approval_is_refused() -> None:
    with pytest.raises(ScheduleError) as caught:
        is_issuance_late(date(2024, 3, 1), today=date(2024, 3, 5), issued_on=date(2024, 2, 28))
    assert caught.value.code == "issuance.before_approval"


@pytest.mark.parametrize(
    ("depths", "lead", "expected"),
    [
        ([0, 1, 2], DEFAULT_LEAD_TIMES, {0: date(2025, 6, 30), 1: date(2025, 6, 16), 2: date(2025, 6, 2)}),
        ([2, 0, 1, 1], DEFAULT_LEAD_TIMES, {0: date(2025, 6, 30), 1: date(2025, 6, 16), 2: date(2025, 6, 2)}),
        ([1], DEFAULT_LEAD_TIMES, {1: date(2025, 6, 16)}),
        # Depth 2 without depth 1 still takes both leads: depth is counted from the province.
        ([2], DEFAULT_LEAD_TIMES, {2: date(2025, 6, 2)}),
        (
            [0, 1, 2, 3],
            LeadTimes(default_days=7),
            {0: date(2025, 6, 30), 1: date(2025, 6, 23), 2: date(2025, 6, 16), 3: date(2025, 6, 9)},
        ),
        (
            [0, 1, 2, 3],
            LeadTimes.from_mapping({1: 10, 3: 3}),
            {0: date(2025, 6, 30), 1: date(2025, 6, 20), 2: date(2025, 6, 6), 3: date(2025, 6, 3)},
        ),
        ([0, 1], LeadTimes(default_days=0), {0: date(2025, 6, 30), 1: date(2025, 6, 30)}),
        ([], DEFAULT_LEAD_TIMES, {}),
    ],
)
def test_d25a_due_dates_cascade_down(depths: list[int], lead: LeadTimes, expected: dict[int, date]) -> None:
    result = cascade_due_dates(date(2025, 6, 30), depths, lead)
    assert result == expected
    assert list(result) == sorted(expected)


def test_d25a_cascade_crosses_month_and_year_ends() -> None:
    assert cascade_due_dates(date(2025, 1, 10), [0, 1, 2]) == {
        0: date(2025, 1, 10),
        1: date(2024, 12, 27),
        2: date(2024, 12, 13),
    }


def test_d25a_cascade_from_a_lower_top() -> None:
    assert cascade_due_dates(date(2025, 6, 30), [1, 2, 3], top_depth=1) == {
        1: date(2025, 6, 30),
        2: date(2025, 6, 16),
        3: date(2025, 6, 2),
    }
    with pytest.raises(ScheduleError):
        cascade_due_dates(date(2025, 6, 30), [0, 1], top_depth=1)


@pytest.mark.parametrize(
    ("lead", "depth", "days"),
    [
        (LeadTimes(), 1, 14),
        (LeadTimes(), 5, 14),
        (LeadTimes(default_days=10), 2, 10),
        (LeadTimes.from_mapping({2: 7}), 1, 14),
        (LeadTimes.from_mapping({2: 7}), 2, 7),
        (LeadTimes.from_mapping({2: 7}, default_days=21), 3, 21),
    ],
)
def test_d25a_lead_days_per_depth(lead: LeadTimes, depth: int, days: int) -> None:
    assert lead.days_for(depth) == days


@pytest.mark.parametrize(
    ("default_days", "by_depth", "code"),
    [
        (-1, (), "lead.negative"),
        (14, ((2, -3),), "lead.negative"),
        (14, ((0, 7),), "lead.depth"),
        (14, ((2, 7), (2, 9)), "lead.depth"),
    ],
)
def test_d25a_lead_times_are_validated(default_days: int, by_depth: tuple[tuple[int, int], ...], code: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        LeadTimes(default_days, by_depth)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("submitted_on", "on_time"),
    [(date(2025, 6, 1), True), (date(2025, 6, 16), True), (date(2025, 6, 17), False), (date(2026, 1, 1), False)],
)
def test_d25b_on_time_means_on_or_before_due(submitted_on: date, on_time: bool) -> None:
    assert is_on_time(submitted_on, date(2025, 6, 16)) is on_time


@pytest.mark.parametrize(
    ("submitted_on", "today", "expected"),
    [
        (date(2025, 6, 10), date(2025, 7, 1), Timeliness.ON_TIME),
        (date(2025, 6, 16), date(2025, 6, 16), Timeliness.ON_TIME),
        (date(2025, 6, 17), date(2025, 6, 17), Timeliness.LATE),
        (None, date(2025, 6, 1), Timeliness.PENDING),
        (None, date(2025, 6, 16), Timeliness.PENDING),
        (None, date(2025, 6, 17), Timeliness.OVERDUE),
    ],
)
def test_d25b_timeliness(submitted_on: date | None, today: date, expected: Timeliness) -> None:
    assert timeliness(date(2025, 6, 16), today=today, submitted_on=submitted_on) is expected


@pytest.mark.parametrize(
    ("status", "label"),
    [
        (Timeliness.ON_TIME, "Đúng hạn"),
        (Timeliness.LATE, "Trễ hạn"),
        (Timeliness.PENDING, "Chưa đến hạn"),
        (Timeliness.OVERDUE, "Quá hạn, chưa nộp"),
    ],
)
def test_d25b_timeliness_labels(status: Timeliness, label: str) -> None:
    assert str(status) == label
