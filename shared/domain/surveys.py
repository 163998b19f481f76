"""Surveys (D22): questionnaires, answers checked against them, and aggregates per question at any level.

Pure: the API passes in the questions and the answers of the responses a level holds (its own subtree's), so the
same function gives the base, the district and the province their figures, and they agree by construction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from shared.domain.errors import DomainError

QUESTION_KINDS = ("single", "multiple", "scale", "number", "text")
"""Một lựa chọn, nhiều lựa chọn, thang điểm, số, trả lời tự do."""
METHODS = ("interview", "form", "online")
"""D22: direct interviews (phỏng vấn trực tiếp), survey forms (phiếu khảo sát), online (trực tuyến)."""
MEAN_PLACES = Decimal("0.01")
TEXTS_SHOWN = 200
"""Free-text answers listed per question in an aggregate; the count covers all of them."""


class SurveyError(DomainError):
    """A questionnaire or an answer that breaks D22; `field` names where, as the API body spells it."""

    def __init__(self, code: str, message_vi: str, message_en: str, *, field: str) -> None:
        super().__init__(code, message_vi, message_en)
        self.field = field


@dataclass(frozen=True, slots=True)
class Question:
    key: str
    """Stable within the questionnaire (`q1`, `q2` ...): answers refer to it."""
    kind: str
    text: str
    options: tuple[str, ...] = ()
    scale_min: int = 1
    scale_max: int = 5
    required: bool = True


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    choices: tuple[str, ...] = ()
    """Single and multiple choice: the option texts chosen."""
    value: Decimal | None = None
    """Scale and number questions."""
    text: str = ""


def check_questions(questions: Sequence[Question]) -> None:
    """Refuse a questionnaire a respondent could not answer unambiguously (D22)."""
    if not questions:
        raise SurveyError(
            "survey.no_questions",
            "Phiếu khảo sát cần ít nhất một câu hỏi.",
            "A questionnaire needs at least one question.",
            field="questions",
        )
    seen: set[str] = set()
    for i, q in enumerate(questions):
        where = f"questions[{i}]"
        if not q.key.strip() or q.key in seen:
            raise SurveyError(
                "survey.question_key",
                f"Mã câu hỏi «{q.key}» trống hoặc trùng.",
                f"Question key «{q.key}» is empty or repeated.",
                field=f"{where}.key",
            )
        seen.add(q.key)
        if q.kind not in QUESTION_KINDS:
            raise SurveyError(
                "survey.question_kind",
                f"Loại câu hỏi phải là một trong: {', '.join(QUESTION_KINDS)}.",
                f"kind must be one of: {', '.join(QUESTION_KINDS)}.",
                field=f"{where}.kind",
            )
        if not q.text.strip():
            raise SurveyError(
                "survey.question_text", "Thiếu nội dung câu hỏi.", "The question text is empty.", field=f"{where}.text"
            )
        if q.kind in ("single", "multiple"):
            options = [o.strip() for o in q.options]
            if len(options) < 2 or "" in options or len(set(options)) != len(options):
                raise SurveyError(
                    "survey.options",
                    "Câu hỏi lựa chọn cần ít nhất hai phương án, không trống, không trùng.",
                    "A choice question needs at least two options, none empty or repeated.",
                    field=f"{where}.options",
                )
        if q.kind == "scale" and not q.scale_min < q.scale_max:
            raise SurveyError(
                "survey.scale",
                "Thang điểm: giá trị nhỏ nhất phải nhỏ hơn giá trị lớn nhất.",
                "Scale: the minimum must be below the maximum.",
                field=f"{where}.scale_max",
            )


def check_answers(questions: Sequence[Question], answers: Sequence[Answer]) -> None:
    """Refuse a response that does not fit its questionnaire (D22): unknown question, wrong kind, missing answer."""
    by_key = {q.key: q for q in questions}
    seen: set[str] = set()
    for i, a in enumerate(answers):
        where = f"answers[{i}]"
        q = by_key.get(a.question)
        if q is None or a.question in seen:
            raise SurveyError(
                "survey.answer_question",
                f"Câu trả lời cho câu hỏi «{a.question}» không có trong phiếu hoặc bị trùng.",
                f"The answer to «{a.question}» matches no question of the questionnaire, or repeats one.",
                field=f"{where}.question",
            )
        seen.add(a.question)
        _check_answer(q, a, where)
    for q in questions:
        if q.required and q.key not in seen:
            raise SurveyError(
                "survey.required",
                f"Câu hỏi «{q.key}» bắt buộc trả lời.",
                f"Question «{q.key}» must be answered.",
                field="answers",
            )


def _check_answer(q: Question, a: Answer, where: str) -> None:
    if q.kind in ("single", "multiple"):
        unknown = [c for c in a.choices if c not in q.options]
        count_ok = len(a.choices) == 1 if q.kind == "single" else len(a.choices) >= 1
        if unknown or not count_ok or len(set(a.choices)) != len(a.choices):
            raise SurveyError(
                "survey.choice",
                f"Câu «{q.key}»: chọn {'đúng một' if q.kind == 'single' else 'ít nhất một'} phương án có trong phiếu.",
                f"Question «{q.key}»: choose {'exactly one' if q.kind == 'single' else 'at least one'} of its options.",
                field=f"{where}.choices",
            )
    elif q.kind in ("scale", "number"):
        value = a.value
        bad = value is None or not value.is_finite()
        if not bad and q.kind == "scale":
            assert value is not None
            bad = value != value.to_integral_value() or not q.scale_min <= value <= q.scale_max
        if bad:
            expect_vi = f"số nguyên từ {q.scale_min} đến {q.scale_max}" if q.kind == "scale" else "một số"
            expect_en = f"a whole number from {q.scale_min} to {q.scale_max}" if q.kind == "scale" else "a number"
            raise SurveyError(
                "survey.value",
                f"Câu «{q.key}»: cần {expect_vi}.",
                f"Question «{q.key}»: expects {expect_en}.",
                field=f"{where}.value",
            )
    elif not a.text.strip():
        raise SurveyError(
            "survey.text",
            f"Câu «{q.key}»: câu trả lời trống.",
            f"Question «{q.key}»: the answer is empty.",
            field=f"{where}.text",
        )


@dataclass(frozen=True, slots=True)
class QuestionAggregate:
    """One question's figures over a set of responses."""

    key: str
    kind: str
    text: str
    answered: int
    skipped: int
    counts: dict[str, int] = field(default_factory=dict)
    """Choice questions: responses per option (a multiple-choice response counts once for each option chosen);
    scale questions: responses per point of the scale, as text (`"1"` ... `"5"`)."""
    mean: Decimal | None = None
    """Scale and number questions, rounded half up to 2 places."""
    total: Decimal | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    texts: tuple[str, ...] = ()
    """Free-text answers, the first `TEXTS_SHOWN`."""


def aggregate(questions: Sequence[Question], responses: Iterable[Sequence[Answer]]) -> list[QuestionAggregate]:
    """Figures per question over `responses` (each the answers of one respondent), in the questionnaire's order.

    Additive over disjoint sets of responses (counts, totals, extremes), so a level's figures equal the sum of its
    units' figures; answers to questions the questionnaire lacks are ignored.
    """
    answers: dict[str, list[Answer]] = {q.key: [] for q in questions}
    n = 0
    for response in responses:
        n += 1
        for a in response:
            if a.question in answers:
                answers[a.question].append(a)
    return [_aggregate_one(q, answers[q.key], n) for q in questions]


def _aggregate_one(q: Question, given: list[Answer], n: int) -> QuestionAggregate:
    answered = len(given)
    skipped = n - answered
    if q.kind in ("single", "multiple"):
        counts = dict.fromkeys(q.options, 0)
        for a in given:
            for c in a.choices:
                if c in counts:
                    counts[c] += 1
        return QuestionAggregate(q.key, q.kind, q.text, answered, skipped, counts)
    if q.kind in ("scale", "number"):
        values = [a.value for a in given if a.value is not None]
        counts = {}
        if q.kind == "scale":
            counts = {str(p): 0 for p in range(q.scale_min, q.scale_max + 1)}
            for v in values:
                point = str(int(v))
                counts[point] = counts.get(point, 0) + 1
        total = sum(values, Decimal(0)) if values else None
        mean = (total / len(values)).quantize(MEAN_PLACES, ROUND_HALF_UP) if total is not None else None
        return QuestionAggregate(
            q.key,
            q.kind,
            q.text,
            len(values),
            n - len(values),
            counts,
            mean,
            total,
            min(values) if values else None,
            max(values) if values else None,
        )
    texts = [a.text.strip() for a in given if a.text.strip()]
    return QuestionAggregate(q.key, q.kind, q.text, len(texts), n - len(texts), texts=tuple(texts[:TEXTS_SHOWN]))
