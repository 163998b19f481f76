"""The shapes questionnaires, respondents and responses take at the boundary: API bodies and answers, forms (D22)."""

from __future__ import annotations

import uuid
from datetime import date

import msgspec

from shared.domain.surveys import QuestionAggregate
from shared.surveys.records import AnswerWire, QuestionWire

KIND_LABELS_VI = {
    "single": "Một lựa chọn",
    "multiple": "Nhiều lựa chọn",
    "scale": "Thang điểm",
    "number": "Số",
    "text": "Trả lời tự do",
}
METHOD_LABELS_VI = {"interview": "Phỏng vấn trực tiếp", "form": "Phiếu khảo sát", "online": "Trực tuyến"}
GROUP_LABELS_VI = {"member": "Đảng viên", "cadre": "Cán bộ", "public": "Quần chúng"}


class Questionnaire(msgspec.Struct, frozen=True):
    id: uuid.UUID
    unit: uuid.UUID
    """The surveying unit (its lead agency); the questionnaire reaches its subtree."""
    rev: int
    document: uuid.UUID | None
    title: str
    method: str
    opens_on: date
    closes_on: date
    questions: list[QuestionWire]
    selected_units: list[uuid.UUID]
    respondents_per_unit: int


class QuestionnaireCreate(msgspec.Struct, frozen=True):
    title: str
    opens_on: date
    closes_on: date
    questions: list[QuestionWire]
    """Kinds: single, multiple (with options), scale (scale_min..scale_max), number, text."""
    method: str = "form"
    """interview, form or online (D22)."""
    selected_units: list[uuid.UUID] = msgspec.field(default_factory=list)
    """Units chosen to be representative (D22); empty = every unit of the subtree."""
    respondents_per_unit: int = 0
    """How many respondents each selected unit chooses (0: the unit decides)."""
    document: uuid.UUID | None = None
    unit: uuid.UUID | None = None


class Respondent(msgspec.Struct, frozen=True):
    id: uuid.UUID
    unit: uuid.UUID
    rev: int
    questionnaire: uuid.UUID
    full_name: str
    group: str
    note: str


class RespondentCreate(msgspec.Struct, frozen=True):
    questionnaire: uuid.UUID
    full_name: str
    group: str
    """member (đảng viên), cadre (cán bộ) or public (quần chúng)."""
    note: str = ""
    unit: uuid.UUID | None = None


class SurveyResponse(msgspec.Struct, frozen=True):
    id: uuid.UUID
    unit: uuid.UUID
    rev: int
    questionnaire: uuid.UUID
    respondent: uuid.UUID | None
    group: str
    answered_on: date
    method: str
    answers: list[AnswerWire]


class SurveyResponseCreate(msgspec.Struct, frozen=True):
    questionnaire: uuid.UUID
    answered_on: date
    answers: list[AnswerWire]
    respondent: uuid.UUID | None = None
    """A respondent this unit selected; or none for an anonymous form, with `group`."""
    group: str = ""
    method: str = ""
    """Defaults to the questionnaire's."""
    unit: uuid.UUID | None = None


class UnitResponses(msgspec.Struct, frozen=True):
    unit: uuid.UUID
    code: str
    name: str
    selected: bool
    responses: int


class SurveyAggregate(msgspec.Struct, frozen=True):
    questionnaire: uuid.UUID
    unit: uuid.UUID
    """The level these figures are for: responses entered in its subtree."""
    responses: int
    questions: list[QuestionAggregate]
    units: list[UnitResponses]
    """Per unit directly below, how many responses its subtree entered."""
