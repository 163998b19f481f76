"""Khảo sát (D22): questionnaires built at a level and sent down to the units chosen, respondents named and responses
entered at the base (offline at its node if need be), and the results per question at any level."""

from __future__ import annotations

import re
import uuid
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery

from shared.core.errors import Refusal
from shared.core.scope import subtree_units
from shared.documents.service import newest_documents
from shared.domain.formatting import format_decimal, format_percent
from shared.domain.surveys import QUESTION_KINDS
from shared.surveys.records import RESPONDENT_GROUPS, AnswerWire, QuestionnaireRecord, QuestionWire
from shared.surveys.schemas import (
    GROUP_LABELS_VI,
    KIND_LABELS_VI,
    METHOD_LABELS_VI,
    QuestionnaireCreate,
    RespondentCreate,
    SurveyResponseCreate,
)
from shared.surveys.service import QUESTIONNAIRES, RESPONDENTS, RESPONSES, respondents_of, results
from shared.ui.export import xlsx_response
from shared.ui.forms import Form, Posted
from shared.ui.web import Frame, Listed, Page, back_to, list_page, listed_by_document_and_state, render

QUESTION_ROWS = 5
STATE_LABELS_VI = {"upcoming": "Chưa mở", "open": "Đang khảo sát", "closed": "Đã kết thúc"}


def state_of(q: QuestionnaireRecord, today: date) -> str:
    return "upcoming" if today < q.opens_on else "closed" if today > q.closes_on else "open"


def fmt(value: Decimal | None) -> str:
    return "—" if value is None else format_decimal(value.normalize(), trim=True)


async def _list_context(
    request: Request[Any, Any, State], frame: Page, document: uuid.UUID | None, state: str | None
) -> dict[str, Any]:
    today = date.today()
    async with request.app.state.db.read() as conn:
        where = [QUESTIONNAIRES.rt.table.c.document == document] if document else []
        found = await QUESTIONNAIRES.list_all(conn, frame.me, frame.viewer.id, where=where)
        docs = await newest_documents(conn, frame.viewer)
        below = [u for u in await subtree_units(conn, frame.viewer) if u.id != frame.viewer.id]
    if state:
        found = [q for q in found if state_of(q, today) == state]
    return {
        "rows": sorted(found, key=lambda q: q.opens_on, reverse=True),
        "docs": docs,
        "today": today,
        "state_of": state_of,
        "states": STATE_LABELS_VI,
        "below": [u for u in below if u.parent == frame.viewer.id],
        "methods": METHOD_LABELS_VI,
        "kinds": KIND_LABELS_VI,
        "n_questions": QUESTION_ROWS,
    }


LISTED = listed_by_document_and_state(_list_context)


surveys_page = list_page("/khao-sat", "surveys.html", LISTED)


@get("/khao-sat.xlsx", dependencies=LISTED)
async def surveys_xlsx(listed: Listed) -> Response[Any]:
    header = ("Phiếu khảo sát", "Văn bản", "Phương pháp", "Từ ngày", "Đến ngày", "Số câu hỏi", "Tình trạng")
    rows = [
        (
            q.title,
            listed["numbers"].get(q.document, "") if q.document else "",
            METHOD_LABELS_VI.get(q.method, q.method),
            q.opens_on,
            q.closes_on,
            len(q.questions),
            STATE_LABELS_VI[state_of(q, listed["today"])],
        )
        for q in listed["rows"]
    ]
    return xlsx_response("khao-sat.xlsx", "Khảo sát", header, rows)


QUESTION_FIELDS = {"options": "options", "scale_min": "scale", "scale_max": "scale", "kind": "kind"}
"""API field of a question → the suffix of its form field (`q0_scale` ...); any other is the question's text."""


def _refused(form: Form, exc: Refusal) -> None:
    """A question's refusal (`questions[2].options`) next to that row; others as the shell's forms do."""
    if not form.refused_row(exc, "questions", "q", lambda f: QUESTION_FIELDS.get(f, "text"), "q0_text"):
        form.refused(exc)


def _read_questions(form: Form) -> list[QuestionWire]:
    found: list[QuestionWire] = []
    for i in range(QUESTION_ROWS):
        p = f"q{i}_"
        text = form.text(p + "text")
        kind = form.text(p + "kind")
        options = [o.strip() for o in form.text(p + "options").splitlines() if o.strip()]
        scale = form.text(p + "scale") or "1-5"
        if not text:
            continue
        if kind not in QUESTION_KINDS:
            form.errors[p + "kind"] = "Chọn loại câu hỏi."
            continue
        low, high = 1, 5
        if kind == "scale":
            parts = re.fullmatch(r"\s*(\d+)\s*[-–]\s*(\d+)\s*", scale)
            if parts is None:
                form.errors[p + "scale"] = "Ghi thang điểm dạng 1-5."
                continue
            low, high = int(parts.group(1)), int(parts.group(2))
        found.append(QuestionWire(f"q{len(found) + 1}", kind, text, options, low, high))
    return found


@post("/khao-sat", status_code=303)
async def add_questionnaire(request: Request[Any, Any, State], frame: Frame, form: Posted) -> Response[Any]:
    """Build a questionnaire at the viewed unit and send it down to the units chosen (D22)."""
    title = form.text("title", required="Nhập tên phiếu khảo sát.")
    document = form.ident("document")
    method = form.choice("method", METHOD_LABELS_VI, message="Chọn phương pháp khảo sát.")
    opens_on = form.day("opens_on")
    closes_on = form.day("closes_on")
    per_unit = (
        form.number("respondents_per_unit", label="Số người mỗi đơn vị") if form.data.get("respondents_per_unit") else 0
    )
    selected = form.idents("selected_units")
    questions = _read_questions(form)
    if not questions and form.ok:
        form.errors["q0_text"] = "Phiếu khảo sát cần ít nhất một câu hỏi."
    if form.ok and opens_on is not None and closes_on is not None:
        data = QuestionnaireCreate(
            title, opens_on, closes_on, questions, method, selected, per_unit or 0, document, frame.viewer.id
        )
        made = await form.save(lambda conn: QUESTIONNAIRES.create(conn, frame.me, data), partial(_refused, form))
        if made:
            return back_to(f"/khao-sat/{made.value.id}", frame, saved="created")
    return form.again("surveys.html", frame, await _list_context(request, frame, None, None), saved=None)


async def _detail(request: Request[Any, Any, State], frame: Page, qid: uuid.UUID) -> dict[str, Any]:
    async with request.app.state.db.read() as conn:
        q = await QUESTIONNAIRES.get(conn, frame.me, qid)
        figures = await results(conn, frame.viewer, q.id)
        named = await respondents_of(conn, frame.viewer, q.id)
        answered = {r.respondent for r in await RESPONSES.list_all(conn, frame.me, frame.viewer.id) if r.respondent}
    mine = [r for r in named if r.owner == frame.viewer.id]
    return {
        "q": q,
        "figures": figures,
        "respondents": sorted(named, key=lambda r: r.full_name),
        "waiting": [r for r in mine if r.id not in answered],
        "answered": answered,
        "groups": GROUP_LABELS_VI,
        "kinds": KIND_LABELS_VI,
        "methods": METHOD_LABELS_VI,
        "state": STATE_LABELS_VI[state_of(q, date.today())],
        "fmt": fmt,
        "rate": lambda part, whole: format_percent(part, whole) if whole else "—",
        "can_enter": frame.can_edit and frame.viewer.id != q.owner,
        "respondent_form": {},
        "respondent_errors": {},
        "response_form": {},
        "response_errors": {},
    }


@get("/khao-sat/{questionnaire_id:uuid}")
async def survey_page(
    request: Request[Any, Any, State],
    frame: Frame,
    questionnaire_id: FromPath[uuid.UUID],
    saved: FromQuery[str | None] = None,
) -> Response[Any]:
    return render("survey.html", frame, saved=saved, **await _detail(request, frame, questionnaire_id))


@post("/khao-sat/{questionnaire_id:uuid}/nguoi-tra-loi", status_code=303)
async def add_respondent(
    request: Request[Any, Any, State], frame: Frame, form: Posted, questionnaire_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """A unit chosen to answer names a respondent of a group (D22: representative and honest)."""
    name = form.text("full_name", required="Nhập họ và tên người được khảo sát.")
    group = form.choice("group", RESPONDENT_GROUPS, message="Chọn nhóm: đảng viên, cán bộ hoặc quần chúng.")
    note = form.text("note")
    data = RespondentCreate(questionnaire_id, name, group, note, frame.viewer.id)
    if form.ok and await form.save(lambda conn: RESPONDENTS.create(conn, frame.me, data)):
        return back_to(f"/khao-sat/{questionnaire_id}", frame, saved="respondent")
    context = await _detail(request, frame, questionnaire_id)
    return form.again("survey.html", frame, context, prefix="respondent_", saved=None)


def _answers(form: Form, q: QuestionnaireRecord) -> list[AnswerWire]:
    """One answer per question filled in, read by the question's kind; a blank one is left out."""
    found = []
    for question in q.questions:
        name = f"a_{question.key}"
        if question.kind == "multiple":
            chosen = [str(v) for v in form.data.getall(name, [])]
            form.values[name] = chosen
            if chosen:
                found.append(AnswerWire(question.key, chosen))
            continue
        text = form.text(name)
        if not text:
            continue
        if question.kind == "single":
            found.append(AnswerWire(question.key, [text]))
        elif question.kind in ("scale", "number"):
            try:
                value = Decimal(text.replace(".", "").replace(",", ".") if "," in text else text)
            except InvalidOperation:
                form.errors[name] = "Ghi một số, ví dụ 4 hoặc 2,5."
                continue
            found.append(AnswerWire(question.key, value=value))
        else:
            found.append(AnswerWire(question.key, text=text))
    given = {a.question for a in found}
    for question in q.questions:
        name = f"a_{question.key}"
        if question.required and question.key not in given and name not in form.errors:
            form.errors[name] = "Câu hỏi bắt buộc: hãy ghi câu trả lời của người được khảo sát."
    return found


@post("/khao-sat/{questionnaire_id:uuid}/phieu", status_code=303)
async def add_response(
    request: Request[Any, Any, State], frame: Frame, form: Posted, questionnaire_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Enter one respondent's answers at the base (D22), with every check of `POST /api/v1/survey-responses`."""
    context = await _detail(request, frame, questionnaire_id)
    q: QuestionnaireRecord = context["q"]
    respondent = form.ident("respondent")
    group = form.text("group")
    answered_on = form.day("answered_on")
    answers = _answers(form, q)
    if form.ok and answered_on is not None:
        data = SurveyResponseCreate(q.id, answered_on, answers, respondent, group, "", frame.viewer.id)

        def refused(exc: Refusal) -> None:
            found = re.fullmatch(r"answers\[(\d+)\].*", exc.problem.field or "")
            if found and int(found.group(1)) < len(answers):
                form.errors[f"a_{answers[int(found.group(1))].question}"] = exc.problem.message
            else:
                form.refused(exc)

        if await form.save(lambda conn: RESPONSES.create(conn, frame.me, data), refused):
            return back_to(f"/khao-sat/{q.id}", frame, saved="response")
    return form.again("survey.html", frame, context, prefix="response_", saved=None)


PAGES = (surveys_page, surveys_xlsx, add_questionnaire, survey_page, add_respondent, add_response)
