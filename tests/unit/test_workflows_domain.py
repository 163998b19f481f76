"""The pure core of domain workflows II: survey checks and aggregates (D22), report states, completeness and
timeliness (D25, D25b), and what-is-due ordering (D27)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from shared.domain.reports import (
    DueItem,
    DueKind,
    ReportFacts,
    ReportState,
    by_urgency,
    completeness,
    missing_lower_reports,
    progress_years,
)
from shared.domain.surveys import Answer, Question, SurveyError, aggregate, check_answers, check_questions

QS = [
    Question("a", "single", "?", ("x", "y")),
    Question("b", "multiple", "?", ("x", "y", "z")),
    Question("c", "scale", "?", scale_min=1, scale_max=3),
    Question("d", "number", "?"),
    Question("e", "text", "?", required=False),
]
OK = [Answer("a", ("x",)), Answer("b", ("y", "z")), Answer("c", value=Decimal(2)), Answer("d", value=Decimal("1.5"))]


@pytest.mark.parametrize(
    ("questions", "field"),
    [
        ([], "questions"),
        ([QS[0], QS[0]], "questions[1].key"),
        ([Question("a", "single", "?", ("x",))], "questions[0].options"),
        ([Question("a", "single", "?", ("x", "x"))], "questions[0].options"),
        ([Question("a", "scale", "?", scale_min=3, scale_max=3)], "questions[0].scale_max"),
        ([Question("a", "date", "?")], "questions[0].kind"),
        ([Question("a", "text", " ")], "questions[0].text"),
    ],
)
def test_d22_a_questionnaire_that_cannot_be_answered_is_refused(questions: list[Question], field: str) -> None:
    with pytest.raises(SurveyError) as caught:
        check_questions(questions)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ([*OK, Answer("z", text="?")], "answers[4].question"),
        ([OK[0], OK[0], *OK[1:]], "answers[1].question"),
        ([Answer("a", ("x", "y")), *OK[1:]], "answers[0].choices"),
        ([Answer("a", ("w",)), *OK[1:]], "answers[0].choices"),
        ([OK[0], Answer("b", ()), *OK[2:]], "answers[1].choices"),
        ([*OK[:2], Answer("c", value=Decimal(4)), OK[3]], "answers[2].value"),
        ([*OK[:2], Answer("c", value=Decimal("1.5")), OK[3]], "answers[2].value"),
        ([*OK[:3], Answer("d", value=Decimal("NaN"))], "answers[3].value"),
        ([*OK[:3], Answer("d")], "answers[3].value"),
        ([*OK, Answer("e", text=" ")], "answers[4].text"),
        (OK[:3], "answers"),
    ],
)
def test_d22_an_answer_that_does_not_fit_its_questionnaire_is_refused(answers: list[Answer], field: str) -> None:
    with pytest.raises(SurveyError) as caught:
        check_answers(QS, answers)
    assert caught.value.field == field


def test_d22_aggregates_add_up_over_disjoint_sets_of_responses() -> None:
    check_answers(QS, OK)
    other = [Answer("a", ("y",)), Answer("b", ("x",)), Answer("c", value=Decimal(3)), Answer("d", value=Decimal(4))]
    whole = aggregate(QS, [OK, other, [*OK, Answer("e", text="Tốt")]])
    a, b, c, d, e = whole
    assert a.counts == {"x": 2, "y": 1}
    assert b.counts == {"x": 1, "y": 2, "z": 2}
    assert (c.counts, c.mean) == ({"1": 0, "2": 2, "3": 1}, Decimal("2.33"))
    assert (d.total, d.minimum, d.maximum, d.mean) == (Decimal("7.0"), Decimal("1.5"), Decimal(4), Decimal("2.33"))
    assert (e.answered, e.skipped, e.texts) == (1, 2, ("Tốt",))
    part1, part2 = aggregate(QS, [OK, other]), aggregate(QS, [[*OK, Answer("e", text="Tốt")]])
    for w, p1, p2 in zip(whole, part1, part2, strict=True):
        assert w.answered == p1.answered + p2.answered
        assert all(w.counts[k] == p1.counts.get(k, 0) + p2.counts.get(k, 0) for k in w.counts)
    assert aggregate(QS, [])[2].mean is None


U = uuid.UUID(int=1)
DUE = date(2024, 2, 2)


@pytest.mark.parametrize(
    ("facts", "state", "received"),
    [
        (ReportFacts(U, 2, DUE), ReportState.MISSING, False),
        (ReportFacts(U, 2, DUE, versions=1), ReportState.DRAFTING, False),
        (ReportFacts(U, 2, DUE, versions=1, submitted_on=DUE), ReportState.SUBMITTED, False),
        (ReportFacts(U, 2, DUE, versions=1, submitted_on=DUE, approved_on=DUE), ReportState.APPROVED, False),
        (ReportFacts(U, 2, DUE, versions=1, sent_version=1, first_sent_on=DUE), ReportState.RECEIVED, True),
        (ReportFacts(U, 2, DUE, sent_version=1, returned_version=1), ReportState.RETURNED, False),
        (ReportFacts(U, 2, DUE, versions=2, returned_version=1, sent_version=2), ReportState.RECEIVED, True),
        (ReportFacts(U, 2, DUE, sent_version=2, accepted_version=2), ReportState.ACCEPTED, True),
        (ReportFacts(U, 2, DUE, sent_version=2, accepted_version=1), ReportState.RECEIVED, True),
        (ReportFacts(U, 2, DUE, waived=True), ReportState.WAIVED, False),
    ],
)
def test_d25b_where_a_report_stands_is_decided_by_versions_never_by_clocks(
    facts: ReportFacts, state: ReportState, received: bool
) -> None:
    assert facts.state is state
    assert facts.received is received


def test_d25_d25b_completeness_and_timeliness_per_depth() -> None:
    today = date(2024, 2, 21)
    units = [uuid.UUID(int=i) for i in range(6)]
    facts = [
        ReportFacts(units[0], 2, DUE, sent_version=1, first_sent_on=date(2024, 2, 1)),
        ReportFacts(units[1], 2, DUE, sent_version=1, first_sent_on=date(2024, 2, 3)),
        ReportFacts(units[2], 2, DUE, waived=True),
        ReportFacts(units[3], 2, DUE, sent_version=1, returned_version=1, first_sent_on=date(2024, 1, 1)),
        ReportFacts(units[4], 1, date(2024, 2, 16), approved_on=date(2024, 2, 1)),
        ReportFacts(units[5], 0, date(2024, 3, 1)),
    ]
    total, levels = completeness(facts, today=today)
    deep = levels[-1]
    assert (deep.depth, deep.expected, deep.received, deep.waived, deep.on_time, deep.late) == (2, 4, 2, 1, 1, 1)
    assert (deep.overdue, deep.returned, deep.missing) == (0, 1, 1), "first sent on time, then returned: not overdue"
    assert (levels[1].overdue, levels[1].issuance_late) == (1, 1), "approved 01/02, unsent on 21/02: late (D25)"
    assert (levels[0].overdue, total.expected, total.missing) == (0, 6, 3)
    assert missing_lower_reports(facts[:4]) == [units[3]]


def test_d27_by_urgency_late_first_then_soonest_undated_last() -> None:
    a, b = uuid.UUID(int=1), uuid.UUID(int=2)
    items = [
        DueItem(DueKind.REWRITE, None, a, "x"),
        DueItem(DueKind.REPORT, date(2024, 3, 1), a, "x"),
        DueItem(DueKind.PLAN, date(2024, 1, 1), b, "x"),
        DueItem(DueKind.REPORT, date(2024, 2, 2), b, "x", responsible_code="H2B2"),
        DueItem(DueKind.REPORT, date(2024, 2, 2), a, "x", responsible_code="H2B1"),
        DueItem(DueKind.CORRECTION, date(2024, 2, 2), b, "x"),
    ]
    ordered = by_urgency(items)
    assert [(i.kind, i.responsible_code) for i in ordered] == [
        (DueKind.PLAN, ""),
        (DueKind.CORRECTION, ""),
        (DueKind.REPORT, "H2B1"),
        (DueKind.REPORT, "H2B2"),
        (DueKind.REPORT, ""),
        (DueKind.REWRITE, ""),
    ]
    assert ordered[0].late(date(2024, 1, 2))
    assert ordered[0].days_left(date(2024, 1, 2)) == -1


def test_d18_progress_falls_due_each_year_until_the_target_deadline() -> None:
    assert progress_years(date(2021, 4, 1), date(2023, 12, 31), today=date(2024, 5, 1)) == [2021, 2022, 2023]
    assert progress_years(date(2021, 4, 1), date(2025, 12, 31), today=date(2022, 5, 1)) == [2021, 2022]
