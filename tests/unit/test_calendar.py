"""D16-D18, D20: a document's review milestones, the rule table, overrides, annual evaluations, plan deadlines."""

from datetime import date

import pytest

from shared.domain.calendar import (
    ANNUAL_EVALUATION_ASSUMPTION_VI,
    DEFAULT_REVIEW_RULES,
    LEAP_DAY_ASSUMPTION_VI,
    LOWER_LEVEL_ASSUMPTION_VI,
    MONTH_END_ASSUMPTION_VI,
    IssuingLevel,
    Milestone,
    ReviewKind,
    ReviewOverride,
    ReviewRule,
    ReviewRules,
    add_full_years,
    add_months,
    annual_evaluations,
    issuing_level_for_depth,
    review_milestones,
)
from shared.domain.errors import ScheduleError


@pytest.mark.parametrize(
    ("start", "years", "expected"),
    [
        (date(2020, 2, 29), 5, date(2025, 2, 28)),
        (date(2020, 2, 29), 3, date(2023, 2, 28)),
        (date(2020, 2, 29), 4, date(2024, 2, 29)),
        (date(2020, 2, 29), 10, date(2030, 2, 28)),
        (date(2020, 2, 28), 5, date(2025, 2, 28)),
        (date(2021, 3, 1), 3, date(2024, 3, 1)),
        (date(2019, 12, 31), 5, date(2024, 12, 31)),
        (date(2018, 10, 15), 10, date(2028, 10, 15)),
        (date(2024, 2, 29), -1, date(2023, 2, 28)),
        (date(2024, 5, 20), 0, date(2024, 5, 20)),
    ],
)
def test_d16_add_full_years(start: date, years: int, expected: date) -> None:
    assert add_full_years(start, years) == expected


def test_d16_leap_day_assumption_is_stated_for_the_ui() -> None:
    assert "29/02" in LEAP_DAY_ASSUMPTION_VI
    assert "28/02" in LEAP_DAY_ASSUMPTION_VI


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2024, 4, 30), -2, date(2024, 2, 29)),
        (date(2023, 4, 30), -2, date(2023, 2, 28)),
        (date(2024, 3, 31), -2, date(2024, 1, 31)),
        (date(2024, 5, 31), -2, date(2024, 3, 31)),
        (date(2024, 7, 31), -2, date(2024, 5, 31)),
        (date(2024, 12, 31), -2, date(2024, 10, 31)),
        (date(2025, 1, 15), -2, date(2024, 11, 15)),
        (date(2025, 2, 28), -2, date(2024, 12, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2024, 11, 30), 3, date(2025, 2, 28)),
        (date(2024, 6, 15), 0, date(2024, 6, 15)),
        (date(2024, 6, 15), -18, date(2022, 12, 15)),
    ],
)
def test_d20_add_months_clamps_to_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("signed_on", "level", "preliminary", "final"),
    [
        (date(2018, 10, 15), IssuingLevel.CENTRAL, date(2023, 10, 15), date(2028, 10, 15)),
        (date(2021, 3, 1), IssuingLevel.PROVINCE, date(2024, 3, 1), date(2026, 3, 1)),
        (date(2021, 3, 1), IssuingLevel.LOWER, date(2024, 3, 1), date(2026, 3, 1)),
        (date(2020, 2, 29), IssuingLevel.CENTRAL, date(2025, 2, 28), date(2030, 2, 28)),
        (date(2020, 2, 29), IssuingLevel.PROVINCE, date(2023, 2, 28), date(2025, 2, 28)),
        (date(2016, 2, 29), IssuingLevel.PROVINCE, date(2019, 2, 28), date(2021, 2, 28)),
        (date(2019, 2, 28), IssuingLevel.CENTRAL, date(2024, 2, 28), date(2029, 2, 28)),
    ],
)
def test_d16_milestones_from_signing_date(signed_on: date, level: IssuingLevel, preliminary: date, final: date) -> None:
    first, second = review_milestones("doc", signed_on, level)
    assert (first.kind, first.due, first.scheduled_due, first.moved) == (
        ReviewKind.PRELIMINARY,
        preliminary,
        preliminary,
        False,
    )
    assert (second.kind, second.due, second.scheduled_due, second.moved) == (ReviewKind.FINAL, final, final, False)
    assert first.document == second.document == "doc"


@pytest.mark.parametrize(
    ("due", "plan_deadline"),
    [
        (date(2024, 4, 30), date(2024, 2, 29)),
        (date(2025, 4, 30), date(2025, 2, 28)),
        (date(2024, 3, 1), date(2024, 1, 1)),
        (date(2025, 2, 28), date(2024, 12, 28)),
        (date(2023, 10, 31), date(2023, 8, 31)),
    ],
)
def test_d20_plan_deadline_and_cut_off(due: date, plan_deadline: date) -> None:
    milestone = Milestone("doc", ReviewKind.FINAL, due)
    assert milestone.plan_deadline == plan_deadline
    assert milestone.cut_off == due
    assert "cuối cùng của tháng" in MONTH_END_ASSUMPTION_VI


def test_d16_default_rule_table() -> None:
    rows = {row.level: (row.preliminary_years, row.final_years) for row in DEFAULT_REVIEW_RULES.rows}
    assert rows == {IssuingLevel.CENTRAL: (5, 10), IssuingLevel.PROVINCE: (3, 5), IssuingLevel.LOWER: (3, 5)}
    # The lower-level row is an assumption and says so where the settings screen shows it.
    assert DEFAULT_REVIEW_RULES.rule_for(IssuingLevel.LOWER).note_vi == LOWER_LEVEL_ASSUMPTION_VI
    assert DEFAULT_REVIEW_RULES.rule_for(IssuingLevel.PROVINCE).note_vi == ""


def test_d16_province_may_configure_the_lower_level_row() -> None:
    rules = ReviewRules(
        (
            ReviewRule(IssuingLevel.CENTRAL, 5, 10),
            ReviewRule(IssuingLevel.PROVINCE, 3, 5),
            ReviewRule(IssuingLevel.LOWER, 2, 4),
        )
    )
    preliminary, final = review_milestones("doc", date(2022, 6, 1), IssuingLevel.LOWER, rules=rules)
    assert (preliminary.due, final.due) == (date(2024, 6, 1), date(2026, 6, 1))


@pytest.mark.parametrize(
    "rows",
    [
        (ReviewRule(IssuingLevel.CENTRAL, 5, 10), ReviewRule(IssuingLevel.PROVINCE, 3, 5)),
        (
            ReviewRule(IssuingLevel.CENTRAL, 5, 10),
            ReviewRule(IssuingLevel.PROVINCE, 3, 5),
            ReviewRule(IssuingLevel.PROVINCE, 3, 5),
        ),
        (
            ReviewRule(IssuingLevel.CENTRAL, 5, 10),
            ReviewRule(IssuingLevel.PROVINCE, 5, 5),
            ReviewRule(IssuingLevel.LOWER, 3, 5),
        ),
        (
            ReviewRule(IssuingLevel.CENTRAL, 0, 10),
            ReviewRule(IssuingLevel.PROVINCE, 3, 5),
            ReviewRule(IssuingLevel.LOWER, 3, 5),
        ),
        (
            ReviewRule(IssuingLevel.CENTRAL, 5, 10),
            ReviewRule(IssuingLevel.PROVINCE, 3, 5),
            ReviewRule(IssuingLevel.LOWER, 6, 5),
        ),
    ],
)
def test_d16_rule_table_is_validated(rows: tuple[ReviewRule, ...]) -> None:
    with pytest.raises(ScheduleError):
        ReviewRules(rows)


@pytest.mark.parametrize(
    ("depth", "level"), [(0, IssuingLevel.PROVINCE), (1, IssuingLevel.LOWER), (3, IssuingLevel.LOWER)]
)
def test_d16_issuing_level_for_depth(depth: int, level: IssuingLevel) -> None:
    assert issuing_level_for_depth(depth) is level


def test_d16_issuing_level_refuses_negative_depth() -> None:
    with pytest.raises(ScheduleError):
        issuing_level_for_depth(-1)


@pytest.mark.parametrize(
    ("overrides", "preliminary", "final"),
    [
        (
            [ReviewOverride(ReviewKind.PRELIMINARY, date(2023, 12, 15), "Theo chỉ đạo của Tỉnh ủy", "12-CV/TU")],
            date(2023, 12, 15),
            date(2026, 3, 1),
        ),
        (
            [ReviewOverride(ReviewKind.PRELIMINARY, date(2024, 9, 30), "Gộp với sơ kết giữa nhiệm kỳ", "08-KL/TU")],
            date(2024, 9, 30),
            date(2026, 3, 1),
        ),
        (
            [ReviewOverride(ReviewKind.FINAL, date(2025, 11, 30), "Tổng kết sớm trước đại hội", "20-HD/BTCTW")],
            date(2024, 3, 1),
            date(2025, 11, 30),
        ),
        (
            [
                ReviewOverride(ReviewKind.FINAL, date(2026, 6, 30), "Lùi theo chỉ đạo Trung ương", "15-KL/TW"),
                ReviewOverride(ReviewKind.PRELIMINARY, date(2024, 6, 30), "Lùi theo chỉ đạo Trung ương", "15-KL/TW"),
            ],
            date(2024, 6, 30),
            date(2026, 6, 30),
        ),
    ],
)
def test_d17_overrides_move_reviews(overrides: list[ReviewOverride], preliminary: date, final: date) -> None:
    first, second = review_milestones("15-NQ/TU", date(2021, 3, 1), IssuingLevel.PROVINCE, overrides=overrides)
    assert (first.due, second.due) == (preliminary, final)
    assert first.scheduled_due == date(2024, 3, 1)
    assert second.scheduled_due == date(2026, 3, 1)
    by_kind = {override.kind: override for override in overrides}
    assert first.override is by_kind.get(ReviewKind.PRELIMINARY)
    assert second.override is by_kind.get(ReviewKind.FINAL)
    assert first.moved is (preliminary != date(2024, 3, 1))
    assert second.moved is (final != date(2026, 3, 1))
    # The plan deadline and the cut-off follow the moved date (D20).
    assert second.cut_off == final
    assert second.plan_deadline == add_months(final, -2)


@pytest.mark.parametrize(
    ("reason", "instructing_document", "code"),
    [
        ("", "12-CV/TU", "override.reason"),
        ("   ", "12-CV/TU", "override.reason"),
        ("Theo chỉ đạo", "", "override.instructing_document"),
        ("Theo chỉ đạo", " \t", "override.instructing_document"),
    ],
)
def test_d17_override_requires_reason_and_instructing_document(
    reason: str, instructing_document: str, code: str
) -> None:
    with pytest.raises(ScheduleError) as caught:
        ReviewOverride(ReviewKind.FINAL, date(2026, 1, 1), reason, instructing_document)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        (
            [
                ReviewOverride(ReviewKind.FINAL, date(2026, 1, 1), "a", "1-CV/TU"),
                ReviewOverride(ReviewKind.FINAL, date(2026, 2, 1), "b", "2-CV/TU"),
            ],
            "override.duplicate",
        ),
        ([ReviewOverride(ReviewKind.PRELIMINARY, date(2026, 3, 1), "a", "1-CV/TU")], "override.order"),
        ([ReviewOverride(ReviewKind.FINAL, date(2024, 2, 1), "a", "1-CV/TU")], "override.order"),
        ([ReviewOverride(ReviewKind.PRELIMINARY, date(2021, 3, 1), "a", "1-CV/TU")], "override.order"),
        ([ReviewOverride(ReviewKind.PRELIMINARY, date(2020, 1, 1), "a", "1-CV/TU")], "override.order"),
    ],
)
def test_d17_overrides_that_break_the_order_are_refused(overrides: list[ReviewOverride], code: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        review_milestones("doc", date(2021, 3, 1), IssuingLevel.PROVINCE, overrides=overrides)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("signed_on", "final_due", "expected"),
    [
        (
            date(2021, 3, 15),
            date(2026, 3, 15),
            (date(2021, 12, 31), date(2022, 12, 31), date(2023, 12, 31), date(2024, 12, 31), date(2025, 12, 31)),
        ),
        (date(2021, 12, 31), date(2023, 12, 31), (date(2022, 12, 31),)),
        (date(2022, 1, 1), date(2024, 1, 1), (date(2022, 12, 31), date(2023, 12, 31))),
        (date(2024, 5, 1), date(2024, 12, 31), ()),
    ],
)
def test_d18_annual_evaluations_each_year_until_the_final_review(
    signed_on: date, final_due: date, expected: tuple[date, ...]
) -> None:
    assert annual_evaluations(signed_on, final_due) == expected


def test_d18_annual_evaluation_day_is_a_setting() -> None:
    dates = annual_evaluations(date(2019, 3, 1), date(2022, 3, 1), month=2, day=30)
    assert dates == (date(2020, 2, 29), date(2021, 2, 28), date(2022, 2, 28))
    assert "cuối mỗi năm" in ANNUAL_EVALUATION_ASSUMPTION_VI


@pytest.mark.parametrize(("month", "day"), [(0, 1), (13, 1), (12, 0)])
def test_d18_annual_evaluation_day_must_exist(month: int, day: int) -> None:
    with pytest.raises(ScheduleError):
        annual_evaluations(date(2019, 3, 1), date(2022, 3, 1), month=month, day=day)


def test_d18_annual_evaluations_of_a_central_document_span_ten_years() -> None:
    _, final = review_milestones("doc", date(2018, 10, 15), IssuingLevel.CENTRAL)
    dates = annual_evaluations(date(2018, 10, 15), final.due)
    assert [d.year for d in dates] == list(range(2018, 2028))
