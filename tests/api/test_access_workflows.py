"""D4, D27 for domain workflows II: every route × every role × a unit in scope and one out of scope (the matrix of
`test_access`, over the routes of programmes, surveys, report drafts and what is due)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from shared.db.engine import Database
from tests.api.access_matrix import Factory, Request, Side, matrix_failures
from tests.domain_harness import Api, Maker, running_api
from tests.workflow_harness import SECTIONS, FlowMaker, answers

V = "/api/v1"
WORKFLOW_ROUTES: list[tuple[str, str, Factory]] = []


def route(role: str, label: str) -> Callable[[Factory], Factory]:
    def add(fn: Factory) -> Factory:
        WORKFLOW_ROUTES.append((role, label, fn))
        return fn

    return add


def _flow(mk: Maker) -> FlowMaker:
    flow = FlowMaker(mk.api)
    flow.n = mk.next() * 1000  # numbers stay unique across both makers
    return flow


def _u(mk: Maker, code: str) -> str:
    return str(mk.api.id(code))


async def _programme(mk: Maker, owner: str) -> dict[str, Any]:
    return await _flow(mk).programme(owner, await mk.doc("TU"))


@route("viewer", "GET /action-programmes")
async def _programmes(mk: Maker, s: Side) -> Request:
    await _programme(mk, s.base)
    return "GET", f"{V}/action-programmes", {"params": {"unit": _u(mk, s.base)}}


@route("editor", "POST /action-programmes")
async def _programme_add(mk: Maker, s: Side) -> Request:
    doc = await mk.doc("TU")
    body = {
        "document": doc["id"],
        "title": "Kế hoạch",
        "issued_on": "2021-05-01",
        "situation": "Đã khảo sát",
        "targets": [
            {
                "indicator": "Tỷ lệ",
                "measure": "%",
                "baseline": 1,
                "baseline_source": "Thống kê",
                "target_value": 2,
                "deadline": "2022-12-31",
            }
        ],
        "unit": _u(mk, s.unit),
    }
    return "POST", f"{V}/action-programmes", {"json": body}


@route("viewer", "GET /action-programmes/{id}")
async def _programme_get(mk: Maker, s: Side) -> Request:
    return "GET", f"{V}/action-programmes/{(await _programme(mk, s.unit))['id']}", {}


@route("editor", "PATCH /action-programmes/{id}")
async def _programme_edit(mk: Maker, s: Side) -> Request:
    return "PATCH", f"{V}/action-programmes/{(await _programme(mk, s.unit))['id']}", {"json": {"title": "Sửa"}}


@route("editor", "DELETE /action-programmes/{id}")
async def _programme_del(mk: Maker, s: Side) -> Request:
    return "DELETE", f"{V}/action-programmes/{(await _programme(mk, s.unit))['id']}", {}


@route("viewer", "GET /action-programmes/coverage")
async def _programme_coverage(mk: Maker, s: Side) -> Request:
    doc = await mk.doc("TU")
    return "GET", f"{V}/action-programmes/coverage", {"params": {"document": doc["id"], "unit": _u(mk, s.unit)}}


async def _progress_body(mk: Maker, s: Side) -> dict[str, Any]:
    programme = await _programme(mk, s.base)
    key = programme["targets"][0]["key"]
    return {"programme": programme["id"], "target": key, "year": 2022, "value": "90", "reported_on": "2022-12-01"}


@route("viewer", "GET /programme-progress")
async def _progress(mk: Maker, s: Side) -> Request:
    await mk.api.ok("POST", f"{V}/programme-progress", json=await _progress_body(mk, s))
    return "GET", f"{V}/programme-progress", {"params": {"unit": _u(mk, s.unit)}}


@route("editor", "POST /programme-progress")
async def _progress_add(mk: Maker, s: Side) -> Request:
    return "POST", f"{V}/programme-progress", {"json": await _progress_body(mk, s)}


@route("viewer", "GET /programme-progress/{id}")
async def _progress_get(mk: Maker, s: Side) -> Request:
    done = await mk.api.ok("POST", f"{V}/programme-progress", json=await _progress_body(mk, s))
    return "GET", f"{V}/programme-progress/{done['id']}", {}


@route("viewer", "GET /questionnaires")
async def _questionnaires(mk: Maker, s: Side) -> Request:
    await _flow(mk).questionnaire(s.unit)
    return "GET", f"{V}/questionnaires", {"params": {"unit": _u(mk, s.base)}}


@route("editor", "POST /questionnaires")
async def _questionnaire_add(mk: Maker, s: Side) -> Request:
    body = {
        "title": "Phiếu",
        "opens_on": "2023-09-01",
        "closes_on": "2023-09-30",
        "questions": [{"key": "a", "kind": "text", "text": "Ý kiến"}],
        "unit": _u(mk, s.unit),
    }
    return "POST", f"{V}/questionnaires", {"json": body}


@route("viewer", "GET /questionnaires/{id}")
async def _questionnaire_get(mk: Maker, s: Side) -> Request:
    return "GET", f"{V}/questionnaires/{(await _flow(mk).questionnaire(s.unit))['id']}", {}


@route("viewer", "GET /questionnaires/{id}/aggregate")
async def _aggregate(mk: Maker, s: Side) -> Request:
    flow = _flow(mk)
    q = await flow.questionnaire(s.unit)
    await flow.response(s.base, q)
    return "GET", f"{V}/questionnaires/{q['id']}/aggregate", {}


@route("viewer", "GET /survey-respondents")
async def _respondents(mk: Maker, s: Side) -> Request:
    q = await _flow(mk).questionnaire("TU")
    body = {"questionnaire": q["id"], "full_name": "Người A", "group": "public", "unit": _u(mk, s.base)}
    await mk.api.ok("POST", f"{V}/survey-respondents", json=body)
    return "GET", f"{V}/survey-respondents", {"params": {"unit": _u(mk, s.base)}}


@route("editor", "POST /survey-respondents")
async def _respondent_add(mk: Maker, s: Side) -> Request:
    q = await _flow(mk).questionnaire("TU")
    body = {"questionnaire": q["id"], "full_name": "Người B", "group": "member", "unit": _u(mk, s.base)}
    return "POST", f"{V}/survey-respondents", {"json": body}


@route("viewer", "GET /survey-respondents/{id}")
async def _respondent_get(mk: Maker, s: Side) -> Request:
    q = await _flow(mk).questionnaire("TU")
    body = {"questionnaire": q["id"], "full_name": "Người C", "group": "cadre", "unit": _u(mk, s.base)}
    named = await mk.api.ok("POST", f"{V}/survey-respondents", json=body)
    return "GET", f"{V}/survey-respondents/{named['id']}", {}


@route("viewer", "GET /survey-responses/{id}")
async def _response_get(mk: Maker, s: Side) -> Request:
    flow = _flow(mk)
    done = await flow.response(s.base, await flow.questionnaire("TU"))
    return "GET", f"{V}/survey-responses/{done['id']}", {}


@route("viewer", "GET /survey-responses")
async def _responses(mk: Maker, s: Side) -> Request:
    flow = _flow(mk)
    await flow.response(s.base, await flow.questionnaire("TU"))
    return "GET", f"{V}/survey-responses", {"params": {"unit": _u(mk, s.base)}}


@route("editor", "POST /survey-responses")
async def _response_add(mk: Maker, s: Side) -> Request:
    q = await _flow(mk).questionnaire("TU")
    body = {
        "questionnaire": q["id"],
        "answered_on": "2023-09-10",
        "group": "public",
        "answers": answers(),
        "unit": _u(mk, s.base),
    }
    return "POST", f"{V}/survey-responses", {"json": body}


async def _draft(mk: Maker, owner: str) -> dict[str, Any]:
    return await _flow(mk).draft(owner, await mk.doc("TU"))


@route("viewer", "GET /report-drafts")
async def _drafts(mk: Maker, s: Side) -> Request:
    await _draft(mk, s.base)
    return "GET", f"{V}/report-drafts", {"params": {"unit": _u(mk, s.base)}}


@route("editor", "POST /report-drafts")
async def _draft_add(mk: Maker, s: Side) -> Request:
    doc = await mk.doc("TU")
    body = {
        "document": doc["id"],
        "kind": "final",
        "title": "Báo cáo tổng kết",
        "sections": SECTIONS,
        "written_on": "2025-12-01",
        "unit": _u(mk, s.base),
    }
    return "POST", f"{V}/report-drafts", {"json": body}


@route("viewer", "GET /report-drafts/{id}")
async def _draft_get(mk: Maker, s: Side) -> Request:
    return "GET", f"{V}/report-drafts/{(await _draft(mk, s.base))['id']}", {}


@route("editor", "POST /report-drafts/{id}/versions")
async def _version_add(mk: Maker, s: Side) -> Request:
    draft = await _draft(mk, s.base)
    body = {"sections": SECTIONS, "written_on": "2024-01-06"}
    return "POST", f"{V}/report-drafts/{draft['id']}/versions", {"json": body}


@route("editor", "POST /report-drafts/{id}/submit")
async def _submit(mk: Maker, s: Side) -> Request:
    draft = await _draft(mk, s.base)
    return "POST", f"{V}/report-drafts/{draft['id']}/submit", {"json": {"submitted_on": "2024-01-07"}}


@route("admin", "POST /report-drafts/{id}/approve")
async def _approve(mk: Maker, s: Side) -> Request:
    draft = await _flow(mk).submitted(s.base, await mk.doc("TU"))
    return "POST", f"{V}/report-drafts/{draft['id']}/approve", {"json": {"approved_on": "2024-01-10"}}


@route("editor", "POST /report-drafts/{id}/issue")
async def _issue(mk: Maker, s: Side) -> Request:
    draft = await _flow(mk).submitted(s.base, await mk.doc("TU"))
    await mk.api.ok("POST", f"{V}/report-drafts/{draft['id']}/approve", json={"approved_on": "2024-01-10"})
    body = {"issued_on": "2024-01-12", "report_number": f"{mk.next()}-BC/ĐU"}
    return "POST", f"{V}/report-drafts/{draft['id']}/issue", {"json": body}


def _meeting_body(draft: dict[str, Any]) -> dict[str, Any]:
    return {
        "draft": draft["id"],
        "kind": "conference",
        "title": "Hội nghị",
        "held_on": "2024-01-06",
        "participants": [{"name": "Đồng chí Bí thư", "category": "leader"}],
    }


@route("viewer", "GET /report-meetings")
async def _meetings(mk: Maker, s: Side) -> Request:
    draft = await _draft(mk, s.base)
    await mk.api.ok("POST", f"{V}/report-meetings", json=_meeting_body(draft))
    return "GET", f"{V}/report-meetings", {"params": {"draft": draft["id"]}}


@route("editor", "POST /report-meetings")
async def _meeting_add(mk: Maker, s: Side) -> Request:
    return "POST", f"{V}/report-meetings", {"json": _meeting_body(await _draft(mk, s.base))}


@route("viewer", "GET /report-comments")
async def _comments(mk: Maker, s: Side) -> Request:
    draft = await _draft(mk, s.base)
    body = {"draft": draft["id"], "section": "1", "text": "Góp ý", "made_on": "2024-01-06", "unit": _u(mk, s.unit)}
    await mk.api.ok("POST", f"{V}/report-comments", json=body)
    return "GET", f"{V}/report-comments", {"params": {"draft": draft["id"]}}


@route("editor", "POST /report-comments")
async def _comment_add(mk: Maker, s: Side) -> Request:
    draft = await _draft(mk, s.base)
    return (
        "POST",
        f"{V}/report-comments",
        {"json": {"draft": draft["id"], "section": "2", "text": "Ý kiến", "made_on": "2024-01-06"}},
    )


def _waiver(doc: dict[str, Any], mk: Maker, s: Side) -> dict[str, Any]:
    return {
        "action": "waive",
        "subject_unit": _u(mk, s.base),
        "document": doc["id"],
        "kind": "preliminary",
        "decided_on": "2024-01-20",
        "reason": "Đơn vị đang sáp nhập",
    }


@route("viewer", "GET /report-decisions")
async def _decisions(mk: Maker, s: Side) -> Request:
    doc = await mk.doc("TU")
    await mk.api.ok("POST", f"{V}/report-decisions", json={**_waiver(doc, mk, s), "unit": _u(mk, s.unit)})
    return "GET", f"{V}/report-decisions", {"params": {"subject_unit": _u(mk, s.base)}}


@route("admin", "POST /report-decisions")
async def _decision_add(mk: Maker, s: Side) -> Request:
    return "POST", f"{V}/report-decisions", {"json": _waiver(await mk.doc("TU"), mk, s)}


@route("viewer", "GET /reports/completeness")
async def _completeness(mk: Maker, s: Side) -> Request:
    doc = await mk.doc("TU")
    return "GET", f"{V}/reports/completeness", {"params": {"document": doc["id"], "unit": _u(mk, s.unit)}}


@route("viewer", "GET /due")
async def _due(mk: Maker, s: Side) -> Request:
    await _draft(mk, s.base)
    return "GET", f"{V}/due", {"params": {"unit": _u(mk, s.unit), "today": "2024-01-20"}}


@pytest.fixture
async def api(make_database_url: Any, tmp_path: Path) -> AsyncIterator[Api]:
    db = Database(await make_database_url("sqlite"))
    async with running_api(db, tmp_path, accounts=("TU", "H1")) as running:
        yield running
    await db.dispose()


async def test_d4_d27_every_workflow_route_every_role_in_and_out_of_scope(api: Api) -> None:
    failures = await matrix_failures(api, WORKFLOW_ROUTES)
    assert not failures, "\n".join(failures)


async def test_d27_an_unsigned_request_is_refused_on_every_workflow_route(api: Api) -> None:
    mk = Maker(api)
    for _, label, factory in WORKFLOW_ROUTES:
        method, url, kwargs = await factory(mk, Side("H1", "H1B1"))
        response = await api.client.request(method, url, **kwargs)
        assert response.status_code == 401, label
