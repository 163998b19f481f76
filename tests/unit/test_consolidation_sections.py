"""Programme and survey figures (D15, D18, D22, D26): counts and sums that add up over disjoint sets of records."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from shared.domain.consolidation import TargetState, programme_figures, questionnaire_figures
from shared.domain.programmes import target_met
from shared.domain.surveys import Answer, Question

QUESTIONS = [
    Question("q1", "multiple", "Hình thức", ("A", "B")),
    Question("q2", "scale", "Mức độ", scale_min=1, scale_max=3),
    Question("q3", "number", "Số buổi"),
    Question("q4", "text", "Đề xuất", required=False),
]


def answers(choices: tuple[str, ...], scale: int, number: str, text: str = "") -> list[Answer]:
    return [
        Answer("q1", choices),
        Answer("q2", value=Decimal(scale)),
        Answer("q3", value=Decimal(number)),
        Answer("q4", text=text),
        Answer("q9", ("?",)),  # a question the questionnaire lacks: ignored
    ]


def test_d15_d18_a_falling_target_is_met_at_or_below_its_value() -> None:
    assert target_met(Decimal(4), Decimal(1), Decimal(1))
    assert not target_met(Decimal(4), Decimal(1), Decimal(2))
    assert target_met(Decimal(85), Decimal(95), Decimal(95))
    assert not target_met(Decimal(85), Decimal(95), Decimal("94.9"))


def test_d15_d18_programme_counts_targets_reported_met_and_overdue_as_of_the_cut_off() -> None:
    cut = date(2024, 12, 20)
    figures = programme_figures(
        [
            TargetState(Decimal(85), Decimal(95), date(2025, 12, 31), Decimal(90)),  # reported, not met, not due
            TargetState(Decimal(4), Decimal(1), date(2024, 6, 30), Decimal(1)),  # met
            TargetState(Decimal(0), Decimal(10), date(2024, 6, 30), None),  # past its deadline, never reported
        ],
        cut,
        new_unit=True,
    )
    assert (figures.programmes, figures.units, figures.targets) == (1, 1, 3)
    assert (figures.reported, figures.met, figures.overdue) == (2, 1, 1)
    assert figures.met_rate == "33,3%"


def test_d22_d26_survey_figures_of_two_units_add_up_to_those_of_their_responses_together() -> None:
    one = [("member", answers(("A", "B"), 3, "2.5", "Tốt"), 2)]
    two = [("public", answers(("B",), 1, "4"), 1), ("member", answers(("A",), 2, "0"), 1)]
    together = questionnaire_figures("Phiếu", QUESTIONS, one + two)
    assert questionnaire_figures("Phiếu", QUESTIONS, one) + questionnaire_figures("Phiếu", QUESTIONS, two) == together
    assert dict(together.by_group) == {"member": 3, "public": 1}
    q1, q2, q3, q4 = together.questions
    assert dict(q1.counts) == {"A": 3, "B": 3}, "a multiple-choice response counts once per option chosen"
    assert dict(q2.counts) == {"1": 1, "2": 1, "3": 2}
    assert (q2.total, q2.mean) == (Decimal(9), Decimal("2.25"))
    assert (q3.total, q3.answered) == (Decimal(9), 4)
    assert q4.answered == 2, "empty free-text answers are not counted"
