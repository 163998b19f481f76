"""Surveys (D22): questionnaires built at a level and sent down, respondents and responses entered at the base, and
the figures per question at any level — one set of functions for the API, the pages and the consolidation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import msgspec
from sqlalchemy import String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.core.errors import Refusal, check_one_of, conflict, invalid
from shared.core.scope import Among, UnitInfo, get_visible, records, referred, subtree_units, units_info, up_select
from shared.core.service import RecordKind, RecordService, Shapes, another_live
from shared.documents.service import visible_document
from shared.domain.surveys import (
    METHODS,
    Answer,
    Question,
    SurveyError,
    aggregate,
    check_answers,
    check_questions,
)
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
from shared.surveys.schemas import (
    Questionnaire,
    QuestionnaireCreate,
    Respondent,
    RespondentCreate,
    SurveyAggregate,
    SurveyResponse,
    SurveyResponseCreate,
    UnitResponses,
)
from shared.sync.tables import UnitRow

_QUESTIONNAIRE = ("phiếu khảo sát", "questionnaire")


def _survey_error(exc: SurveyError) -> Refusal:
    return Refusal.from_domain(exc, field=exc.field, rule="D22")


def questions_of(wires: list[QuestionWire]) -> list[Question]:
    return [Question(q.key, q.kind, q.text, tuple(q.options), q.scale_min, q.scale_max, q.required) for q in wires]


def answers_of(answers: list[AnswerWire]) -> list[Answer]:
    return [Answer(a.question, tuple(a.choices), a.value, a.text) for a in answers]


async def check_questionnaire(conn: AsyncConnection, owner: UnitInfo, rec: QuestionnaireRecord) -> QuestionnaireRecord:
    """D22: a titled questionnaire of a known method, open for a period, with answerable questions, sent to units
    below the surveying one."""
    if not rec.title.strip():
        raise invalid("title", "D22", "Thiếu tên phiếu khảo sát.", "The title is empty.")
    check_one_of(rec.method, METHODS, "method", "D22", "Phương pháp", "phỏng vấn, phiếu, trực tuyến")
    if rec.closes_on < rec.opens_on:
        raise invalid("closes_on", "D22", "Ngày kết thúc trước ngày bắt đầu.", "It closes before it opens.")
    if rec.respondents_per_unit < 0:
        raise invalid("respondents_per_unit", "D22", "Số người không được âm.", "Must not be negative.")
    questions = [msgspec.structs.replace(q, key=q.key.strip(), text=q.text.strip()) for q in rec.questions]
    try:
        check_questions(questions_of(questions))
    except SurveyError as exc:
        raise _survey_error(exc) from None
    if rec.document is not None:
        await visible_document(conn, owner, rec.document, "document")
    chosen = await units_info(conn, list(rec.selected_units))
    for i, unit_id in enumerate(rec.selected_units):
        found = chosen.get(unit_id)
        if found is None or not owner.covers(found) or found.id == owner.id:
            raise invalid(
                f"selected_units[{i}]",
                "D22",
                f"Đơn vị được chọn khảo sát phải là cấp dưới của {owner.name}.",
                f"A selected unit must be below {owner.code}.",
            )
    return msgspec.structs.replace(
        rec, title=rec.title.strip(), questions=questions, selected_units=list(dict.fromkeys(rec.selected_units))
    )


async def questionnaire_for(
    conn: AsyncConnection, viewer: UnitInfo, qid: uuid.UUID, field: str = "questionnaire"
) -> QuestionnaireRecord:
    """A questionnaire sent to (or written by) the viewer's unit, else 422 naming the field."""
    unknown = invalid(
        field,
        "D22",
        "Phiếu khảo sát không có hoặc không được gửi đến đơn vị này.",
        "The questionnaire is unknown or was not sent to this unit.",
    )
    rec: QuestionnaireRecord = await referred(conn, QUESTIONNAIRE, viewer, qid, unknown, down=True)
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


def _check_group(group: str) -> None:
    check_one_of(group, RESPONDENT_GROUPS, "group", "D22", "Nhóm đối tượng", "đảng viên, cán bộ, quần chúng")


async def check_respondent(conn: AsyncConnection, owner: UnitInfo, rec: RespondentRecord) -> RespondentRecord:
    """D22: a selected unit names a respondent of a known group, chosen to be representative and honest."""
    _check_group(rec.group)
    if not rec.full_name.strip():
        raise invalid("full_name", "D22", "Thiếu họ tên người được khảo sát.", "The name is empty.")
    q = await questionnaire_for(conn, owner, rec.questionnaire)
    await _check_selected(conn, owner, q)
    return msgspec.structs.replace(rec, full_name=" ".join(rec.full_name.split()), note=rec.note.strip())


async def check_response(conn: AsyncConnection, owner: UnitInfo, rec: SurveyResponseRecord) -> SurveyResponseRecord:
    """D22: one respondent's answers, within the survey's dates, checked against its questions; a named respondent
    answers once and gives the response their group."""
    q = await questionnaire_for(conn, owner, rec.questionnaire)
    await _check_selected(conn, owner, q)
    if not q.opens_on <= rec.answered_on <= q.closes_on:
        raise invalid(
            "answered_on",
            "D22",
            f"Ngày trả lời phải trong thời gian khảo sát ({q.opens_on:%d/%m/%Y} – {q.closes_on:%d/%m/%Y}).",
            f"The answer date must fall within the survey ({q.opens_on} to {q.closes_on}).",
        )
    method = rec.method or q.method
    if method not in METHODS:
        raise invalid("method", "D22", "Phương pháp khảo sát không hợp lệ.", "Unknown method.")
    group = rec.group
    if rec.respondent is not None:
        held = [r for r in await respondents_of(conn, owner, q.id) if r.id == rec.respondent and r.owner == owner.id]
        if not held:
            raise invalid(
                "respondent",
                "D22",
                "Người trả lời không có trong danh sách được chọn của đơn vị cho phiếu này.",
                "The respondent is not among those this unit selected for the questionnaire.",
            )
        group = held[0].group
        if await another_live(conn, SURVEY_RESPONSE, rec, respondent=rec.respondent):
            raise conflict(
                "respondent",
                "D22",
                "Người này đã trả lời phiếu khảo sát.",
                "This respondent has already answered.",
                code="survey.answered",
            )
    if group not in RESPONDENT_GROUPS:
        raise invalid(
            "group",
            "D22",
            f"Phiếu không gắn với người được chọn cần nhóm đối tượng: {', '.join(RESPONDENT_GROUPS)}.",
            f"An anonymous response needs its group: {', '.join(RESPONDENT_GROUPS)}.",
        )
    answers = [msgspec.structs.replace(a, text=a.text.strip()) for a in rec.answers]
    try:
        check_answers(questions_of(q.questions), answers_of(answers))
    except SurveyError as exc:
        raise _survey_error(exc) from None
    return msgspec.structs.replace(rec, method=method, group=group, answers=answers)


QUESTIONNAIRES: RecordService[QuestionnaireRecord] = RecordService(
    RecordKind(QUESTIONNAIRE, _QUESTIONNAIRE, check_questionnaire, down=True, audience_of=lambda data, owner: owner.id),
    Shapes(Questionnaire, QuestionnaireCreate),
)
"""A questionnaire travels down its unit's subtree to the units selected."""
RESPONDENTS: RecordService[RespondentRecord] = RecordService(
    RecordKind(SURVEY_RESPONDENT, ("người được khảo sát", "survey respondent"), check_respondent),
    Shapes(Respondent, RespondentCreate),
)
RESPONSES: RecordService[SurveyResponseRecord] = RecordService(
    RecordKind(SURVEY_RESPONSE, ("phiếu trả lời", "survey response"), check_response),
    Shapes(SurveyResponse, SurveyResponseCreate),
)


async def respondents_of(conn: AsyncConnection, viewer: UnitInfo, questionnaire: uuid.UUID) -> list[RespondentRecord]:
    """The live respondents of a questionnaire the viewer's subtree named."""
    table = SURVEY_RESPONDENT.table
    stmt = up_select(SURVEY_RESPONDENT, viewer).where(
        table.c.questionnaire == questionnaire, table.c.deleted.is_(False)
    )
    return await records(conn, SURVEY_RESPONDENT, stmt)


async def responses_of(
    conn: AsyncConnection, viewer: UnitInfo, questionnaire: uuid.UUID, group: str | None = None
) -> list[SurveyResponseRecord]:
    """The live responses to a questionnaire entered in the viewer's subtree, optionally one group's."""
    table = SURVEY_RESPONSE.table
    stmt = up_select(SURVEY_RESPONSE, viewer).where(table.c.questionnaire == questionnaire, table.c.deleted.is_(False))
    if group is not None:
        stmt = stmt.where(table.c.group == group)
    return await records(conn, SURVEY_RESPONSE, stmt)


async def results(
    conn: AsyncConnection, viewer: UnitInfo, questionnaire: uuid.UUID, group: str | None = None
) -> SurveyAggregate:
    """Figures per question over the responses entered in a unit's subtree (D22, `aggregate`), optionally one
    group's, and per unit directly below how many responses its subtree entered."""
    q: QuestionnaireRecord = await get_visible(
        conn, QUESTIONNAIRE, viewer, questionnaire, down=True, what=_QUESTIONNAIRE
    )
    responses = await responses_of(conn, viewer, q.id, group)
    children = [u for u in await subtree_units(conn, viewer) if u.parent == viewer.id]
    table = SURVEY_RESPONSE.table
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
        aggregate(questions_of(q.questions), (answers_of(r.answers) for r in responses)),
        per_child,
    )


Answered = list[tuple[str, list[Answer], int]]
"""Responses to one questionnaire: (respondent group, answers, how many responses gave exactly those answers)."""


@dataclass(frozen=True, slots=True)
class SurveyRows:
    """Responses answered by the cut-off to the document's questionnaires, per answering unit, not yet counted."""

    questionnaires: dict[uuid.UUID, tuple[str, list[Question]]]
    per_unit: dict[uuid.UUID, dict[uuid.UUID, Answered]]


async def survey_rows(conn: AsyncConnection, among: Among, document: uuid.UUID, cut_off: date) -> SurveyRows:
    """Responses answered by the cut-off to questionnaires on the document (D22), per answering unit among those
    `among(owner column)` admits.

    Answers are JSON, so SQL groups identical answer sets and the consolidation counts each distinct set once per
    grouping with its weight: at most one row per response, usually fewer, never per member.
    """
    qt = QUESTIONNAIRE.table
    on_document = select(qt.c.id, qt.c.title, qt.c.questions).where(qt.c.document == document, qt.c.deleted.is_(False))
    questionnaires = {
        r.id: (r.title, questions_of(msgspec.convert(r.questions or [], list[QuestionWire])))
        for r in await conn.execute(on_document)
    }
    per_unit: dict[uuid.UUID, dict[uuid.UUID, Answered]] = {}
    if not questionnaires:
        return SurveyRows(questionnaires, per_unit)
    r = SURVEY_RESPONSE.table
    answers = cast(r.c.answers, String).label("answers")
    stmt = (
        select(r.c.owner, r.c.questionnaire, r.c.group, answers, func.count().label("n"))
        .where(
            among(r.c.owner),
            r.c.deleted.is_(False),
            r.c.answered_on <= cut_off,
            r.c.questionnaire.in_(list(questionnaires)),
        )
        .group_by(r.c.owner, r.c.questionnaire, r.c.group, answers)
    )
    decode = msgspec.json.Decoder(list[AnswerWire]).decode
    for row in await conn.execute(stmt):
        given = answers_of(decode(row.answers or "[]"))
        per_unit.setdefault(row.owner, {}).setdefault(row.questionnaire, []).append((row.group, given, int(row.n)))
    return SurveyRows(questionnaires, per_unit)
