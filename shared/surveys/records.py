"""Surveys (D22): a questionnaire travels down its unit's subtree; respondents stay with their unit and its parent
(personal data), responses travel up to the province carrying the respondent's group, never a name."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import msgspec
from sqlalchemy import JSON, Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.meta import Base, Envelope, Id
from shared.domain.surveys import METHODS, QUESTION_KINDS
from shared.sync.registry import ROOT, Audience, Record, RecordType

RESPONDENT_GROUPS = ("member", "cadre", "public")
"""Đảng viên, cán bộ, quần chúng: chosen to be representative (D22)."""


class QuestionWire(msgspec.Struct, frozen=True):
    key: str
    kind: str
    text: str
    options: list[str] = msgspec.field(default_factory=list)
    scale_min: int = 1
    scale_max: int = 5
    required: bool = True


class AnswerWire(msgspec.Struct, frozen=True):
    question: str
    choices: list[str] = msgspec.field(default_factory=list)
    value: Decimal | None = None
    text: str = ""


class QuestionnaireRow(Envelope, Base):
    __tablename__ = "questionnaires"

    document: Mapped[uuid.UUID | None] = mapped_column(Id, index=True)
    title: Mapped[str] = mapped_column(Text)
    method: Mapped[str] = mapped_column(String(20))
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)
    questions: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    selected_units: Mapped[list[str]] = mapped_column(JSON, default=list)
    respondents_per_unit: Mapped[int] = mapped_column(Integer)


class QuestionnaireRecord(Record, frozen=True):
    document: uuid.UUID | None
    title: str
    method: str
    opens_on: date
    closes_on: date
    questions: list[QuestionWire]
    selected_units: list[uuid.UUID]
    """The units chosen to answer (D22); empty means every unit of the subtree."""
    respondents_per_unit: int


class RespondentRow(Envelope, Base):
    __tablename__ = "survey_respondents"

    questionnaire: Mapped[uuid.UUID] = mapped_column(Id, index=True)
    full_name: Mapped[str] = mapped_column(Text)
    group: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text)


class RespondentRecord(Record, frozen=True):
    """A person a base unit selected to answer (D22): personal data, held by the unit and its parent only."""

    questionnaire: uuid.UUID
    full_name: str
    group: str
    note: str = ""


class SurveyResponseRow(Envelope, Base):
    __tablename__ = "survey_responses"

    questionnaire: Mapped[uuid.UUID] = mapped_column(Id, index=True)
    respondent: Mapped[uuid.UUID | None] = mapped_column(Id)
    group: Mapped[str] = mapped_column(String(20))
    answered_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20))
    answers: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)


class SurveyResponseRecord(Record, frozen=True):
    questionnaire: uuid.UUID
    respondent: uuid.UUID | None
    """Refers to the respondent held below the ceiling; None for an anonymous form."""
    group: str
    answered_on: date
    method: str
    answers: list[AnswerWire]


def validate_questionnaire(rec: QuestionnaireRecord) -> str | None:
    if rec.method not in METHODS:
        return f"Phương pháp “{rec.method}” không hợp lệ (D22)"
    if not rec.questions or any(q.kind not in QUESTION_KINDS for q in rec.questions):
        return "Phiếu khảo sát cần câu hỏi thuộc các loại cho phép (D22)"
    return "Ngày kết thúc trước ngày bắt đầu (D22)" if rec.closes_on < rec.opens_on else None


def validate_respondent(rec: RespondentRecord) -> str | None:
    return None if rec.group in RESPONDENT_GROUPS else f"Nhóm đối tượng “{rec.group}” không hợp lệ (D22)"


def validate_response(rec: SurveyResponseRecord) -> str | None:
    if rec.group not in RESPONDENT_GROUPS:
        return f"Nhóm đối tượng “{rec.group}” không hợp lệ (D22)"
    return None if rec.method in METHODS else f"Phương pháp “{rec.method}” không hợp lệ (D22)"


QUESTIONNAIRE = RecordType(
    name="questionnaire",
    struct=QuestionnaireRecord,
    model=QuestionnaireRow,
    ceiling=ROOT,
    audience=Audience.OWNER,
    validate=validate_questionnaire,
)
SURVEY_RESPONDENT = RecordType(
    name="survey_respondent",
    struct=RespondentRecord,
    model=RespondentRow,
    ceiling=1,
    audience=Audience.NONE,
    validate=validate_respondent,
    personal=True,
)
SURVEY_RESPONSE = RecordType(
    name="survey_response",
    struct=SurveyResponseRecord,
    model=SurveyResponseRow,
    ceiling=ROOT,
    audience=Audience.NONE,
    validate=validate_response,
)
