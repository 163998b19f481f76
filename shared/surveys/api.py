"""Surveys (D22): questionnaires down, respondents and responses entered at the base, aggregates at every level."""

from __future__ import annotations

import uuid
from datetime import date

import msgspec
from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.core.errors import Refusal, invalid
from shared.core.scope import (
    Caller,
    UnitInfo,
    down_select,
    get_visible,
    out,
    page,
    records,
    save,
    subtree_units,
    unit_in_scope,
    units_info,
    up_select,
    writable_owner,
)
from shared.db.engine import Database
from shared.documents.service import visible_document
from shared.domain.surveys import (
    METHODS,
    Answer,
    Question,
    QuestionAggregate,
    SurveyError,
    aggregate,
    check_answers,
    check_questions,
)
from shared.ids import new_id
from shared.surveys.records import (
    QUESTIONNAIRE,
    RESPONDENT_GROUPS,
    SURVEY_RESPONDENT,
    SURVEY_RESPONSE,
    AnswerWire,
    QuestionnaireRecord,
    QuestionWire,
    RespondentRecord,
    SurveyResponseRecord,
)
from shared.sync.tables import UnitRow

_QUESTIONNAIRE = ("phiếu khảo sát", "questionnaire")


def _survey_error(exc: SurveyError) -> Refusal:
    return Refusal.from_domain(exc, field=exc.field, rule="D22")


def questions_of(rec: QuestionnaireRecord) -> list[Question]:
    return [
        Question(q.key, q.kind, q.text, tuple(q.options), q.scale_min, q.scale_max, q.required) for q in rec.questions
    ]


def answers_of(answers: list[AnswerWire]) -> list[Answer]:
    return [Answer(a.question, tuple(a.choices), a.value, a.text) for a in answers]


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


async def _questionnaire(conn: AsyncConnection, viewer: UnitInfo, qid: uuid.UUID, field: str) -> QuestionnaireRecord:
    try:
        rec: QuestionnaireRecord = await get_visible(conn, QUESTIONNAIRE, viewer, qid, down=True, what=_QUESTIONNAIRE)
    except Refusal:
        raise invalid(
            field,
            "D22",
            "Phiếu khảo sát không có hoặc không được gửi đến đơn vị này.",
            "The questionnaire is unknown or was not sent to this unit.",
        ) from None
    return rec


async def _check_selected(conn: AsyncConnection, owner: UnitInfo, q: QuestionnaireRecord) -> None:
    """D22: only the units chosen answer (or any unit below the surveying one when none were chosen)."""
    if not q.selected_units:
        return
    chosen = await units_info(conn, list(q.selected_units))
    if not any(u.covers(owner) for u in chosen.values()):
        raise invalid(
            "unit",
            "D22",
            f"{owner.name} không thuộc các đơn vị được chọn khảo sát.",
            f"{owner.code} is not among the units selected for this survey.",
        )


class QuestionnaireController(Controller):
    path = "/questionnaires"
    tags = ["surveys"]  # noqa: RUF012

    @get("/")
    async def list_questionnaires(
        self,
        state: State,
        caller: NamedDependency[Caller],
        unit: FromQuery[uuid.UUID | None] = None,
        after: FromQuery[uuid.UUID | None] = None,
        limit: FromQuery[int] = 200,
    ) -> list[Questionnaire]:
        """Questionnaires sent down to a unit, and those its subtree wrote."""
        db: Database = state.db
        async with db.read() as conn:
            viewer = await unit_in_scope(conn, caller, unit)
            stmt = page(down_select(QUESTIONNAIRE, viewer), QUESTIONNAIRE, after, limit)
            return [out(r, Questionnaire) for r in await records(conn, QUESTIONNAIRE, stmt)]

    @post("/")
    async def create(
        self, state: State, caller: NamedDependency[Caller], data: JSONBody[QuestionnaireCreate]
    ) -> Questionnaire:
        """Write a questionnaire (D22); it travels down the unit's subtree to the units selected."""
        if not data.title.strip():
            raise invalid("title", "D22", "Thiếu tên phiếu khảo sát.", "The title is empty.")
        if data.method not in METHODS:
            raise invalid(
                "method",
                "D22",
                f"Phương pháp phải là một trong: {', '.join(METHODS)} (phỏng vấn, phiếu, trực tuyến).",
                f"method must be one of: {', '.join(METHODS)}.",
            )
        if data.closes_on < data.opens_on:
            raise invalid("closes_on", "D22", "Ngày kết thúc trước ngày bắt đầu.", "It closes before it opens.")
        if data.respondents_per_unit < 0:
            raise invalid("respondents_per_unit", "D22", "Số người không được âm.", "Must not be negative.")
        questions = [msgspec.structs.replace(q, key=q.key.strip(), text=q.text.strip()) for q in data.questions]
        try:
            check_questions(
                [Question(q.key, q.kind, q.text, tuple(q.options), q.scale_min, q.scale_max) for q in questions]
            )
        except SurveyError as exc:
            raise _survey_error(exc) from None
        db: Database = state.db
        async with db.write() as conn:
            owner = await writable_owner(conn, caller, data.unit or caller.unit.id)
            if data.document is not None:
                await visible_document(conn, owner, data.document, "document")
            chosen = await units_info(conn, list(data.selected_units))
            for i, unit_id in enumerate(data.selected_units):
                found = chosen.get(unit_id)
                if found is None or not owner.covers(found) or found.id == owner.id:
                    raise invalid(
                        f"selected_units[{i}]",
                        "D22",
                        f"Đơn vị được chọn khảo sát phải là cấp dưới của {owner.name}.",
                        f"A selected unit must be below {owner.code}.",
                    )
            rec = QuestionnaireRecord(
                id=new_id(),
                owner=owner.id,
                audience=owner.id,
                rev=1,
                deleted=False,
                document=data.document,
                title=data.title.strip(),
                method=data.method,
                opens_on=data.opens_on,
                closes_on=data.closes_on,
                questions=questions,
                selected_units=list(dict.fromkeys(data.selected_units)),
                respondents_per_unit=data.respondents_per_unit,
            )
            await save(conn, QUESTIONNAIRE, rec)
        return out(rec, Questionnaire)

    @get("/{questionnaire_id:uuid}")
    async def get_questionnaire(
        self, state: State, caller: NamedDependency[Caller], questionnaire_id: FromPath[uuid.UUID]
    ) -> Questionnaire:
        db: Database = state.db
        async with db.read() as conn:
            rec = await get_visible(conn, QUESTIONNAIRE, caller.unit, questionnaire_id, down=True, what=_QUESTIONNAIRE)
        return out(rec, Questionnaire)

    @get("/{questionnaire_id:uuid}/aggregate")
    async def aggregate_responses(
        self,
        state: State,
        caller: NamedDependency[Caller],
        questionnaire_id: FromPath[uuid.UUID],
        unit: FromQuery[uuid.UUID | None] = None,
        group: FromQuery[str | None] = None,
    ) -> SurveyAggregate:
        """Figures per question over the responses entered in a unit's subtree (D22), optionally one group's."""
        db: Database = state.db
        table = SURVEY_RESPONSE.table
        async with db.read() as conn:
            viewer = await unit_in_scope(conn, caller, unit)
            q: QuestionnaireRecord = await get_visible(
                conn, QUESTIONNAIRE, viewer, questionnaire_id, down=True, what=_QUESTIONNAIRE
            )
            stmt = up_select(SURVEY_RESPONSE, viewer).where(table.c.questionnaire == q.id, table.c.deleted.is_(False))
            if group is not None:
                stmt = stmt.where(table.c.group == group)
            responses: list[SurveyResponseRecord] = await records(conn, SURVEY_RESPONSE, stmt)
            children = [u for u in await subtree_units(conn, viewer) if u.parent == viewer.id]
            counts = dict(
                (
                    await conn.execute(
                        select(UnitRow.path, func.count())
                        .select_from(table)
                        .join(UnitRow, UnitRow.id == table.c.owner)
                        .where(table.c.questionnaire == q.id, table.c.deleted.is_(False))
                        .group_by(UnitRow.path)
                    )
                ).all()
            )
        selected = set(q.selected_units)
        per_child = [
            UnitResponses(
                c.id,
                c.code,
                c.name,
                not selected or c.id in selected,
                sum(n for path, n in counts.items() if str(path).startswith(c.path)),
            )
            for c in children
        ]
        return SurveyAggregate(
            q.id,
            viewer.id,
            len(responses),
            aggregate(questions_of(q), (answers_of(r.answers) for r in responses)),
            per_child,
        )


class RespondentController(Controller):
    path = "/survey-respondents"
    tags = ["surveys"]  # noqa: RUF012

    @get("/")
    async def list_respondents(
        self,
        state: State,
        caller: NamedDependency[Caller],
        questionnaire: FromQuery[uuid.UUID | None] = None,
        unit: FromQuery[uuid.UUID | None] = None,
        after: FromQuery[uuid.UUID | None] = None,
        limit: FromQuery[int] = 200,
    ) -> list[Respondent]:
        """Respondents selected in a unit's subtree (held by their unit and its parent only: personal data)."""
        db: Database = state.db
        table = SURVEY_RESPONDENT.table
        async with db.read() as conn:
            viewer = await unit_in_scope(conn, caller, unit)
            stmt = up_select(SURVEY_RESPONDENT, viewer)
            if questionnaire is not None:
                stmt = stmt.where(table.c.questionnaire == questionnaire)
            rows = await records(conn, SURVEY_RESPONDENT, page(stmt, SURVEY_RESPONDENT, after, limit))
        return [out(r, Respondent) for r in rows]

    @post("/")
    async def create(
        self, state: State, caller: NamedDependency[Caller], data: JSONBody[RespondentCreate]
    ) -> Respondent:
        """A selected unit names a respondent (D22: chosen to be representative and honest)."""
        if data.group not in RESPONDENT_GROUPS:
            raise invalid(
                "group",
                "D22",
                f"Nhóm đối tượng phải là một trong: {', '.join(RESPONDENT_GROUPS)} (đảng viên, cán bộ, quần chúng).",
                f"group must be one of: {', '.join(RESPONDENT_GROUPS)}.",
            )
        if not data.full_name.strip():
            raise invalid("full_name", "D22", "Thiếu họ tên người được khảo sát.", "The name is empty.")
        db: Database = state.db
        async with db.write() as conn:
            owner = await writable_owner(conn, caller, data.unit or caller.unit.id)
            q = await _questionnaire(conn, owner, data.questionnaire, "questionnaire")
            await _check_selected(conn, owner, q)
            rec = RespondentRecord(
                id=new_id(),
                owner=owner.id,
                audience=None,
                rev=1,
                deleted=False,
                questionnaire=q.id,
                full_name=" ".join(data.full_name.split()),
                group=data.group,
                note=data.note.strip(),
            )
            await save(conn, SURVEY_RESPONDENT, rec)
        return out(rec, Respondent)


class SurveyResponseController(Controller):
    path = "/survey-responses"
    tags = ["surveys"]  # noqa: RUF012

    @get("/")
    async def list_responses(
        self,
        state: State,
        caller: NamedDependency[Caller],
        questionnaire: FromQuery[uuid.UUID | None] = None,
        unit: FromQuery[uuid.UUID | None] = None,
        after: FromQuery[uuid.UUID | None] = None,
        limit: FromQuery[int] = 200,
    ) -> list[SurveyResponse]:
        """Responses entered in a unit's subtree (they travel up to the province, without names)."""
        db: Database = state.db
        table = SURVEY_RESPONSE.table
        async with db.read() as conn:
            viewer = await unit_in_scope(conn, caller, unit)
            stmt = up_select(SURVEY_RESPONSE, viewer)
            if questionnaire is not None:
                stmt = stmt.where(table.c.questionnaire == questionnaire)
            rows = await records(conn, SURVEY_RESPONSE, page(stmt, SURVEY_RESPONSE, after, limit))
        return [out(r, SurveyResponse) for r in rows]

    @post("/")
    async def create(
        self, state: State, caller: NamedDependency[Caller], data: JSONBody[SurveyResponseCreate]
    ) -> SurveyResponse:
        """Enter one respondent's answers (D22), offline at the unit's node if need be; checked against the
        questionnaire and its dates."""
        db: Database = state.db
        table = SURVEY_RESPONSE.table
        async with db.write() as conn:
            owner = await writable_owner(conn, caller, data.unit or caller.unit.id)
            q = await _questionnaire(conn, owner, data.questionnaire, "questionnaire")
            await _check_selected(conn, owner, q)
            if not q.opens_on <= data.answered_on <= q.closes_on:
                raise invalid(
                    "answered_on",
                    "D22",
                    f"Ngày trả lời phải trong thời gian khảo sát ({q.opens_on:%d/%m/%Y} – {q.closes_on:%d/%m/%Y}).",
                    f"The answer date must fall within the survey ({q.opens_on} to {q.closes_on}).",
                )
            method = data.method or q.method
            if method not in METHODS:
                raise invalid("method", "D22", "Phương pháp khảo sát không hợp lệ.", "Unknown method.")
            group = data.group
            if data.respondent is not None:
                held: list[RespondentRecord] = await records(
                    conn,
                    SURVEY_RESPONDENT,
                    up_select(SURVEY_RESPONDENT, owner).where(
                        SURVEY_RESPONDENT.table.c.id == data.respondent,
                        SURVEY_RESPONDENT.table.c.owner == owner.id,
                        SURVEY_RESPONDENT.table.c.questionnaire == q.id,
                        SURVEY_RESPONDENT.table.c.deleted.is_(False),
                    ),
                )
                if not held:
                    raise invalid(
                        "respondent",
                        "D22",
                        "Người trả lời không có trong danh sách được chọn của đơn vị cho phiếu này.",
                        "The respondent is not among those this unit selected for the questionnaire.",
                    )
                group = held[0].group
                answered = (
                    await conn.execute(
                        select(table.c.id).where(table.c.respondent == data.respondent, table.c.deleted.is_(False))
                    )
                ).first()
                if answered is not None:
                    raise Refusal(
                        409,
                        "survey.answered",
                        "Người này đã trả lời phiếu khảo sát.",
                        "This respondent has already answered.",
                        field="respondent",
                        rule="D22",
                    )
            if group not in RESPONDENT_GROUPS:
                raise invalid(
                    "group",
                    "D22",
                    f"Phiếu không gắn với người được chọn cần nhóm đối tượng: {', '.join(RESPONDENT_GROUPS)}.",
                    f"An anonymous response needs its group: {', '.join(RESPONDENT_GROUPS)}.",
                )
            answers = [msgspec.structs.replace(a, text=a.text.strip()) for a in data.answers]
            try:
                check_answers(questions_of(q), answers_of(answers))
            except SurveyError as exc:
                raise _survey_error(exc) from None
            rec = SurveyResponseRecord(
                id=new_id(),
                owner=owner.id,
                audience=None,
                rev=1,
                deleted=False,
                questionnaire=q.id,
                respondent=data.respondent,
                group=group,
                answered_on=data.answered_on,
                method=method,
                answers=answers,
            )
            await save(conn, SURVEY_RESPONSE, rec)
        return out(rec, SurveyResponse)
