"""D19-D21: term and year plans, plan deadlines and milestone status, bottom-up review steps, label forms."""

import unicodedata
from datetime import date

import pytest

from shared.domain.calendar import (
    IssuingLevel,
    Milestone,
    MilestoneStatus,
    ReviewKind,
    ReviewOverride,
    ReviewStep,
    bottom_up_review_steps,
    milestone_status,
    next_year_plan,
    review_milestones,
    term_plan,
)
from shared.domain.deadlines import LeadTimes
from shared.domain.errors import ScheduleError


# A plan of four documents used by the D19 tests: provincial, Central, provincial with an override, lower level.
def _documents() -> list[Milestone]:
    milestones: list[Milestone] = []
    milestones += review_milestones("01-NQ/TU", date(2021, 3, 1), IssuingLevel.PROVINCE)  # 2024-03-01, 2026-03-01
    milestones += review_milestones("05-NQ/TW", date(2018, 10, 15), IssuingLevel.CENTRAL)  # 2023-10-15, 2028-10-15
    milestones += review_milestones(  # 2022-09-01 moved to 2023-01-15, 2024-09-01
        "07-CT/TU",
        date(2019, 9, 1),
        IssuingLevel.PROVINCE,
        overrides=[ReviewOverride(ReviewKind.PRELIMINARY, date(2023, 1, 15), "Lùi theo chỉ đạo", "3-CV/TU")],
    )
    milestones += review_milestones("02-NQ/ĐU", date(2020, 12, 31), IssuingLevel.LOWER)  # 2023-12-31, 2025-12-31
    return milestones


def _summary(plan: tuple[Milestone, ...]) -> list[tuple[str, ReviewKind, date]]:
    return [(m.document, m.kind, m.due) for m in plan]


def test_d19_term_plan_lists_every_review_due_in_the_term() -> None:
    plan = term_plan(date(2020, 10, 15), date(2025, 10, 14), _documents())
    assert _summary(plan) == [
        ("07-CT/TU", ReviewKind.PRELIMINARY, date(2023, 1, 15)),
        ("05-NQ/TW", ReviewKind.PRELIMINARY, date(2023, 10, 15)),
        ("02-NQ/ĐU", ReviewKind.PRELIMINARY, date(2023, 12, 31)),
        ("01-NQ/TU", ReviewKind.PRELIMINARY, date(2024, 3, 1)),
        ("07-CT/TU", ReviewKind.FINAL, date(2024, 9, 1)),
    ]


@pytest.mark.parametrize(
    ("start", "end", "count"),
    [
        (date(2023, 1, 15), date(2023, 1, 15), 1),  # both ends are inclusive
        (date(2023, 1, 16), date(2023, 10, 14), 0),
        (date(2025, 10, 15), date(2030, 10, 14), 3),
        (date(2015, 1, 1), date(2035, 1, 1), 8),
    ],
)
def test_d19_term_plan_bounds(start: date, end: date, count: int) -> None:
    assert len(term_plan(start, end, _documents())) == count


def test_d19_term_plan_uses_the_moved_date_not_the_scheduled_one() -> None:
    plan = term_plan(date(2022, 1, 1), date(2022, 12, 31), _documents())
    assert plan == ()


def test_d19_term_plan_refuses_a_backwards_term() -> None:
    with pytest.raises(ScheduleError):
        term_plan(date(2025, 1, 1), date(2020, 1, 1), _documents())


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (
            2023,
            [
                ("07-CT/TU", ReviewKind.PRELIMINARY, date(2023, 1, 15)),
                ("05-NQ/TW", ReviewKind.PRELIMINARY, date(2023, 10, 15)),
                ("02-NQ/ĐU", ReviewKind.PRELIMINARY, date(2023, 12, 31)),
            ],
        ),
        (
            2024,
            [
                ("01-NQ/TU", ReviewKind.PRELIMINARY, date(2024, 3, 1)),
                ("07-CT/TU", ReviewKind.FINAL, date(2024, 9, 1)),
            ],
        ),
        (2025, [("02-NQ/ĐU", ReviewKind.FINAL, date(2025, 12, 31))]),
        (2026, [("01-NQ/TU", ReviewKind.FINAL, date(2026, 3, 1))]),
        (2022, []),
    ],
)
def test_d19_next_year_plan(year: int, expected: list[tuple[str, ReviewKind, date]]) -> None:
    assert _summary(next_year_plan(year, _documents())) == expected


def test_d19_plan_orders_same_day_reviews_by_document_then_kind() -> None:
    day = date(2024, 6, 1)
    milestones = [
        Milestone("B", ReviewKind.PRELIMINARY, day),
        Milestone("A", ReviewKind.FINAL, day),
        Milestone("A", ReviewKind.PRELIMINARY, day),
    ]
    assert _summary(next_year_plan(2024, milestones)) == [
        ("A", ReviewKind.PRELIMINARY, day),
        ("A", ReviewKind.FINAL, day),
        ("B", ReviewKind.PRELIMINARY, day),
    ]


# Due 30/04/2024: plan deadline 29/02/2024, notice from 30/01/2024 with the default 30 days.
DUE_30_APRIL = Milestone("doc", ReviewKind.PRELIMINARY, date(2024, 4, 30))


@pytest.mark.parametrize(
    ("today", "done", "status"),
    [
        (date(2023, 6, 1), False, MilestoneStatus.UPCOMING),
        (date(2024, 1, 29), False, MilestoneStatus.UPCOMING),
        (date(2024, 1, 30), False, MilestoneStatus.PLAN_DUE),
        (date(2024, 2, 29), False, MilestoneStatus.PLAN_DUE),
        (date(2024, 4, 30), False, MilestoneStatus.PLAN_DUE),
        (date(2024, 5, 1), False, MilestoneStatus.OVERDUE),
        (date(2025, 1, 1), False, MilestoneStatus.OVERDUE),
        (date(2023, 6, 1), True, MilestoneStatus.DONE),
        (date(2024, 5, 1), True, MilestoneStatus.DONE),
    ],
)
def test_d20_milestone_status(today: date, done: bool, status: MilestoneStatus) -> None:
    assert milestone_status(DUE_30_APRIL, today=today, done=done) is status


@pytest.mark.parametrize(
    ("today", "notice_days", "status"),
    [
        (date(2024, 2, 28), 0, MilestoneStatus.UPCOMING),
        (date(2024, 2, 29), 0, MilestoneStatus.PLAN_DUE),
        (date(2023, 12, 30), 61, MilestoneStatus.PLAN_DUE),
        (date(2023, 12, 29), 61, MilestoneStatus.UPCOMING),
    ],
)
def test_d20_plan_notice_is_a_setting(today: date, notice_days: int, status: MilestoneStatus) -> None:
    assert milestone_status(DUE_30_APRIL, today=today, done=False, notice_days=notice_days) is status


def test_d20_negative_notice_is_refused() -> None:
    with pytest.raises(ScheduleError):
        milestone_status(DUE_30_APRIL, today=date(2024, 1, 1), done=False, notice_days=-1)


def test_d20_status_follows_an_override() -> None:
    override = ReviewOverride(ReviewKind.PRELIMINARY, date(2024, 8, 31), "Lùi theo chỉ đạo", "9-CV/TU")
    moved = Milestone("doc", ReviewKind.PRELIMINARY, date(2024, 4, 30), override)
    assert milestone_status(moved, today=date(2024, 5, 1), done=False) is MilestoneStatus.UPCOMING
    assert milestone_status(moved, today=date(2024, 6, 1), done=False) is MilestoneStatus.PLAN_DUE
    assert milestone_status(moved, today=date(2024, 9, 1), done=False) is MilestoneStatus.OVERDUE


@pytest.mark.parametrize(
    ("depths", "lead", "top_depth", "expected"),
    [
        (
            [0, 1, 2],
            LeadTimes(),
            0,
            (ReviewStep(2, date(2025, 6, 2)), ReviewStep(1, date(2025, 6, 16)), ReviewStep(0, date(2025, 6, 30))),
        ),
        # Since 2025 many provinces have no district level: province → commune → cell.
        ([1, 0], LeadTimes(), 0, (ReviewStep(1, date(2025, 6, 16)), ReviewStep(0, date(2025, 6, 30)))),
        (
            [0, 1, 2, 3],
            LeadTimes.from_mapping({2: 10, 3: 7}),
            0,
            (
                ReviewStep(3, date(2025, 5, 30)),
                ReviewStep(2, date(2025, 6, 6)),
                ReviewStep(1, date(2025, 6, 16)),
                ReviewStep(0, date(2025, 6, 30)),
            ),
        ),
        # A district's own document: the district is the top, its base units review first.
        ([1, 2], LeadTimes(default_days=7), 1, (ReviewStep(2, date(2025, 6, 23)), ReviewStep(1, date(2025, 6, 30)))),
        ([2], LeadTimes(), 0, (ReviewStep(2, date(2025, 6, 2)),)),
        ([], LeadTimes(), 0, ()),
    ],
)
def test_d21_reviews_run_bottom_up(
    depths: list[int], lead: LeadTimes, top_depth: int, expected: tuple[ReviewStep, ...]
) -> None:
    assert bottom_up_review_steps(date(2025, 6, 30), depths, lead, top_depth=top_depth) == expected


def test_d21_deepest_level_reviews_first() -> None:
    steps = bottom_up_review_steps(date(2025, 6, 30), [0, 1, 2, 3])
    assert [step.depth for step in steps] == [3, 2, 1, 0]
    assert [step.due for step in steps] == sorted(step.due for step in steps)


def test_d21_depth_above_the_top_is_refused() -> None:
    with pytest.raises(ScheduleError):
        bottom_up_review_steps(date(2025, 6, 30), [0, 1], top_depth=1)


@pytest.mark.parametrize(
    "label",
    [
        *(level.value for level in IssuingLevel),
        *(kind.value for kind in ReviewKind),
        *(status.value for status in MilestoneStatus),
    ],
)
def test_d16_labels_are_nfc(label: str) -> None:
    assert unicodedata.normalize("NFC", label) == label
