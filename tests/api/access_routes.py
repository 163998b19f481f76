"""One request factory per API route for the access matrix: each prepares fresh targets as the province's admin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.api.access_matrix import Factory, Request, Side
from tests.domain_harness import Maker, xlsx

V = "/api/v1"


def _u(mk: Maker, code: str) -> str:
    return str(mk.api.id(code))


async def _doc(mk: Maker, s: Side) -> dict[str, Any]:
    return await mk.doc(s.unit)


# One factory per route: it prepares fresh targets as the province's admin and returns the request to try.
ROUTES: list[tuple[str, str, Factory]] = []


def route(role: str, label: str) -> Callable[[Factory], Factory]:
    def add(fn: Factory) -> Factory:
        ROUTES.append((role, label, fn))
        return fn

    return add


@route("viewer", "GET /auth/me")
async def _me(mk: Maker, s: Side) -> Request:
    return "GET", f"{V}/auth/me", {}


@route("admin", "GET /users")
async def _users(mk: Maker, s: Side) -> Request:
    await mk.user(s.unit)
    return "GET", f"{V}/users", {}


@route("admin", "POST /users")
async def _user_add(mk: Maker, s: Side) -> Request:
    body = {"username": f"new{mk.next()}", "password": "mot-mat-khau-dai", "role": "viewer", "unit": _u(mk, s.base)}
    return "POST", f"{V}/users", {"json": body}


@route("admin", "PATCH /users/{id}")
async def _user_edit(mk: Maker, s: Side) -> Request:
    user = await mk.user(s.base)
    return "PATCH", f"{V}/users/{user['id']}", {"json": {"role": "editor"}}


@route("admin", "DELETE /users/{id}/sessions")
async def _user_sessions(mk: Maker, s: Side) -> Request:
    user = await mk.user(s.base)
    return "DELETE", f"{V}/users/{user['id']}/sessions", {}


@route("viewer", "GET /units")
async def _units(mk: Maker, s: Side) -> Request:
    return "GET", f"{V}/units", {}


@route("viewer", "GET /units/{id}")
async def _unit(mk: Maker, s: Side) -> Request:
    return "GET", f"{V}/units/{_u(mk, s.base)}", {}


@route("viewer", "GET /documents")
async def _docs(mk: Maker, s: Side) -> Request:
    await _doc(mk, s)
    return "GET", f"{V}/documents", {"params": {"unit": _u(mk, s.base)}}


@route("editor", "POST /documents")
async def _doc_add(mk: Maker, s: Side) -> Request:
    body = {"number": f"{mk.next()}-NQ/HU", "title": "T", "signed_on": "2021-01-01", "lead_agency": "Ban Tuyên giáo"}
    return "POST", f"{V}/documents", {"json": {**body, "unit": _u(mk, s.unit)}}


@route("viewer", "GET /documents/{id}")
async def _doc_get(mk: Maker, s: Side) -> Request:
    return "GET", f"{V}/documents/{(await _doc(mk, s))['id']}", {}


@route("editor", "PATCH /documents/{id}")
async def _doc_edit(mk: Maker, s: Side) -> Request:
    return "PATCH", f"{V}/documents/{(await _doc(mk, s))['id']}", {"json": {"title": "Sửa"}}


@route("editor", "DELETE /documents/{id}")
async def _doc_del(mk: Maker, s: Side) -> Request:
    return "DELETE", f"{V}/documents/{(await _doc(mk, s))['id']}", {}


@route("viewer", "GET /documents/{id}/lineage")
async def _lineage(mk: Maker, s: Side) -> Request:
    return "GET", f"{V}/documents/{(await _doc(mk, s))['id']}/lineage", {}


@route("viewer", "GET /calendar")
async def _calendar(mk: Maker, s: Side) -> Request:
    await _doc(mk, s)
    return "GET", f"{V}/calendar", {"params": {"unit": _u(mk, s.base)}}


@route("viewer", "GET /calendar/documents/{id}")
async def _doc_calendar(mk: Maker, s: Side) -> Request:
    return "GET", f"{V}/calendar/documents/{(await _doc(mk, s))['id']}", {}


@route("viewer", "GET /calendar/term-plan")
async def _term(mk: Maker, s: Side) -> Request:
    return (
        "GET",
        f"{V}/calendar/term-plan",
        {"params": {"start": "2020-10-01", "end": "2025-09-30", "unit": _u(mk, s.unit)}},
    )


@route("viewer", "GET /calendar/year-plan")
async def _year(mk: Maker, s: Side) -> Request:
    return "GET", f"{V}/calendar/year-plan", {"params": {"year": 2024, "unit": _u(mk, s.unit)}}


@route("viewer", "GET /calendar/bottom-up")
async def _bottom_up(mk: Maker, s: Side) -> Request:
    doc = await _doc(mk, s)
    return "GET", f"{V}/calendar/bottom-up", {"params": {"document": doc["id"]}}


@route("viewer", "GET /review-overrides")
async def _overrides(mk: Maker, s: Side) -> Request:
    await mk.override(s.unit, await _doc(mk, s))
    return "GET", f"{V}/review-overrides", {}


@route("viewer", "GET /review-overrides/{id}")
async def _override_get(mk: Maker, s: Side) -> Request:
    return "GET", f"{V}/review-overrides/{(await mk.override(s.unit, await _doc(mk, s)))['id']}", {}


@route("admin", "POST /review-overrides")
async def _override_add(mk: Maker, s: Side) -> Request:
    doc = await _doc(mk, s)
    body = {
        "document": doc["id"],
        "kind": "final",
        "due": "2026-06-01",
        "reason": "Chỉ đạo",
        "instructing_document": "3-CV/TU",
    }
    return "POST", f"{V}/review-overrides", {"json": {**body, "unit": _u(mk, s.unit)}}


@route("admin", "PATCH /review-overrides/{id}")
async def _override_edit(mk: Maker, s: Side) -> Request:
    held = await mk.override(s.unit, await _doc(mk, s))
    return "PATCH", f"{V}/review-overrides/{held['id']}", {"json": {"due": "2024-07-01"}}


@route("admin", "DELETE /review-overrides/{id}")
async def _override_del(mk: Maker, s: Side) -> Request:
    held = await mk.override(s.unit, await _doc(mk, s))
    return "DELETE", f"{V}/review-overrides/{held['id']}", {}


@route("viewer", "GET /review-plans")
async def _plans(mk: Maker, s: Side) -> Request:
    await mk.plan(s.unit)
    return "GET", f"{V}/review-plans", {}


@route("viewer", "GET /review-plans/{id}")
async def _plan(mk: Maker, s: Side) -> Request:
    return "GET", f"{V}/review-plans/{(await mk.plan(s.unit))['id']}", {}


@route("admin", "POST /review-plans")
async def _plan_add(mk: Maker, s: Side) -> Request:
    body = {"plan_kind": "year", "number": f"{mk.next()}-KH/HU", "issued_on": "2023-12-01", "year": 2024}
    return "POST", f"{V}/review-plans", {"json": {**body, "unit": _u(mk, s.unit)}}


@route("admin", "PATCH /review-plans/{id}")
async def _plan_edit(mk: Maker, s: Side) -> Request:
    held = await mk.plan(s.unit)
    return "PATCH", f"{V}/review-plans/{held['id']}", {"json": {"number": f"{mk.next()}-KH/HU"}}


@route("viewer", "GET /review-projects")
async def _projects(mk: Maker, s: Side) -> Request:
    await mk.project(s.unit, await _doc(mk, s))
    return "GET", f"{V}/review-projects", {}


@route("viewer", "GET /review-projects/{id}")
async def _project_get(mk: Maker, s: Side) -> Request:
    return "GET", f"{V}/review-projects/{(await mk.project(s.unit, await _doc(mk, s)))['id']}", {}


@route("editor", "POST /review-projects")
async def _project_add(mk: Maker, s: Side) -> Request:
    doc = await _doc(mk, s)
    body = {"document": doc["id"], "kind": "final", "title": "Đề án", "proposed_on": "2025-01-01"}
    return "POST", f"{V}/review-projects", {"json": {**body, "unit": _u(mk, s.unit)}}


@route("editor", "PATCH /review-projects/{id}")
async def _project_edit(mk: Maker, s: Side) -> Request:
    held = await mk.project(s.unit, await _doc(mk, s))
    return "PATCH", f"{V}/review-projects/{held['id']}", {"json": {"approved_on": "2025-02-01"}}


@route("viewer", "GET /review-reports")
async def _reports(mk: Maker, s: Side) -> Request:
    await mk.report(s.base, await _doc(mk, s))
    return "GET", f"{V}/review-reports", {}


@route("viewer", "GET /review-reports/{id}")
async def _report_get(mk: Maker, s: Side) -> Request:
    return "GET", f"{V}/review-reports/{(await mk.report(s.base, await _doc(mk, s)))['id']}", {}


@route("editor", "POST /review-reports")
async def _report_add(mk: Maker, s: Side) -> Request:
    doc = await _doc(mk, s)
    body = {"document": doc["id"], "kind": "preliminary", "held_on": "2024-02-20", "unit": _u(mk, s.base)}
    return "POST", f"{V}/review-reports", {"json": body}


@route("editor", "DELETE /review-reports/{id}")
async def _report_del(mk: Maker, s: Side) -> Request:
    held = await mk.report(s.base, await _doc(mk, s))
    return "DELETE", f"{V}/review-reports/{held['id']}", {}


@route("viewer", "GET /study-sessions")
async def _sessions(mk: Maker, s: Side) -> Request:
    await mk.session(s.base, await _doc(mk, s))
    return "GET", f"{V}/study-sessions", {"params": {"unit": _u(mk, s.unit)}}


@route("editor", "POST /study-sessions")
async def _session_add(mk: Maker, s: Side) -> Request:
    doc = await mk.doc("TU")
    body = {"title": "Học tập", "documents": [doc["id"]], "held_on": "2021-05-01", "form": "online", "invited": 5}
    return "POST", f"{V}/study-sessions", {"json": {**body, "attended": 5, "unit": _u(mk, s.base)}}


@route("viewer", "GET /study-sessions/{id}")
async def _session_get(mk: Maker, s: Side) -> Request:
    return "GET", f"{V}/study-sessions/{(await mk.session(s.base, await _doc(mk, s)))['id']}", {}


@route("editor", "PATCH /study-sessions/{id}")
async def _session_edit(mk: Maker, s: Side) -> Request:
    held = await mk.session(s.base, await _doc(mk, s))
    return "PATCH", f"{V}/study-sessions/{held['id']}", {"json": {"attended": 90}}


@route("editor", "DELETE /study-sessions/{id}")
async def _session_del(mk: Maker, s: Side) -> Request:
    return "DELETE", f"{V}/study-sessions/{(await mk.session(s.base, await _doc(mk, s)))['id']}", {}


@route("viewer", "GET /study-sessions/coverage")
async def _coverage(mk: Maker, s: Side) -> Request:
    doc = await _doc(mk, s)
    await mk.session(s.base, doc)
    return "GET", f"{V}/study-sessions/coverage", {"params": {"document": doc["id"], "unit": _u(mk, s.unit)}}


@route("viewer", "GET /propaganda")
async def _propaganda(mk: Maker, s: Side) -> Request:
    await mk.propaganda(s.base)
    return "GET", f"{V}/propaganda", {"params": {"unit": _u(mk, s.unit)}}


@route("editor", "POST /propaganda")
async def _propaganda_add(mk: Maker, s: Side) -> Request:
    body = {"channel": "oral", "period_start": "2021-01-01", "period_end": "2021-03-31", "count": 3, "reached": 300}
    return "POST", f"{V}/propaganda", {"json": {**body, "unit": _u(mk, s.base)}}


@route("viewer", "GET /propaganda/{id}")
async def _propaganda_get(mk: Maker, s: Side) -> Request:
    return "GET", f"{V}/propaganda/{(await mk.propaganda(s.base))['id']}", {}


@route("editor", "PATCH /propaganda/{id}")
async def _propaganda_edit(mk: Maker, s: Side) -> Request:
    return "PATCH", f"{V}/propaganda/{(await mk.propaganda(s.base))['id']}", {"json": {"count": 4}}


@route("editor", "DELETE /propaganda/{id}")
async def _propaganda_del(mk: Maker, s: Side) -> Request:
    return "DELETE", f"{V}/propaganda/{(await mk.propaganda(s.base))['id']}", {}


@route("viewer", "GET /propaganda/summary")
async def _propaganda_sum(mk: Maker, s: Side) -> Request:
    await mk.propaganda(s.base)
    return "GET", f"{V}/propaganda/summary", {"params": {"unit": _u(mk, s.unit)}}


@route("viewer", "GET /members")
async def _members(mk: Maker, s: Side) -> Request:
    await mk.member(s.base)
    return "GET", f"{V}/members", {"params": {"unit": _u(mk, s.base)}}


@route("editor", "POST /members")
async def _member_add(mk: Maker, s: Side) -> Request:
    return "POST", f"{V}/members", {"json": {"full_name": "Lê Văn C", "birth_year": 1990, "unit": _u(mk, s.base)}}


@route("viewer", "GET /members/{id}")
async def _member_get(mk: Maker, s: Side) -> Request:
    return "GET", f"{V}/members/{(await mk.member(s.base))['id']}", {}


@route("editor", "PATCH /members/{id}")
async def _member_edit(mk: Maker, s: Side) -> Request:
    return "PATCH", f"{V}/members/{(await mk.member(s.base))['id']}", {"json": {"post": "Bí thư chi bộ"}}


@route("editor", "DELETE /members/{id}")
async def _member_del(mk: Maker, s: Side) -> Request:
    return "DELETE", f"{V}/members/{(await mk.member(s.base))['id']}", {}


@route("editor", "POST /members/import")
async def _member_import(mk: Maker, s: Side) -> Request:
    content = xlsx([["Họ và tên", "Năm sinh"], [f"Người {mk.next()}", 1985]])
    return (
        "POST",
        f"{V}/members/import",
        {"files": {"data": ("roster.xlsx", content)}, "params": {"unit": _u(mk, s.base)}},
    )


@route("viewer", "GET /essay-templates")
async def _templates(mk: Maker, s: Side) -> Request:
    await mk.template(s.unit, await _doc(mk, s))
    return "GET", f"{V}/essay-templates", {"params": {"unit": _u(mk, s.base)}}


@route("editor", "POST /essay-templates")
async def _template_add(mk: Maker, s: Side) -> Request:
    doc = await _doc(mk, s)
    body = {"document": doc["id"], "title": "Mẫu", "questions": ["Câu 1"], "issued_on": "2021-03-10"}
    return "POST", f"{V}/essay-templates", {"json": {**body, "unit": _u(mk, s.unit)}}


@route("viewer", "GET /essay-templates/{id}")
async def _template_get(mk: Maker, s: Side) -> Request:
    return "GET", f"{V}/essay-templates/{(await mk.template(s.unit, await _doc(mk, s)))['id']}", {}


@route("editor", "PATCH /essay-templates/{id}")
async def _template_edit(mk: Maker, s: Side) -> Request:
    held = await mk.template(s.unit, await _doc(mk, s))
    return "PATCH", f"{V}/essay-templates/{held['id']}", {"json": {"title": "Mẫu sửa"}}


@route("editor", "DELETE /essay-templates/{id}")
async def _template_del(mk: Maker, s: Side) -> Request:
    return "DELETE", f"{V}/essay-templates/{(await mk.template(s.unit, await _doc(mk, s)))['id']}", {}


async def _essay(mk: Maker, s: Side) -> dict[str, Any]:
    return dict(await mk.essay(s.unit, await mk.member(s.base), await mk.doc("TU")))


@route("viewer", "GET /essays")
async def _essays(mk: Maker, s: Side) -> Request:
    await _essay(mk, s)
    return "GET", f"{V}/essays", {"params": {"unit": _u(mk, s.unit)}}


@route("editor", "POST /essays")
async def _essay_add(mk: Maker, s: Side) -> Request:
    member, doc = await mk.member(s.base), await mk.doc("TU")
    body = {"member": member["id"], "document": doc["id"], "score": "7", "graded_on": "2021-05-02"}
    return "POST", f"{V}/essays", {"json": {**body, "unit": _u(mk, s.unit)}}


@route("viewer", "GET /essays/{id}")
async def _essay_get(mk: Maker, s: Side) -> Request:
    return "GET", f"{V}/essays/{(await _essay(mk, s))['id']}", {}


@route("editor", "PATCH /essays/{id}")
async def _essay_edit(mk: Maker, s: Side) -> Request:
    return "PATCH", f"{V}/essays/{(await _essay(mk, s))['id']}", {"json": {"score": "9"}}


@route("editor", "DELETE /essays/{id}")
async def _essay_del(mk: Maker, s: Side) -> Request:
    return "DELETE", f"{V}/essays/{(await _essay(mk, s))['id']}", {}


@route("viewer", "GET /essays/rewrites")
async def _rewrites(mk: Maker, s: Side) -> Request:
    await mk.essay(s.unit, await mk.member(s.base), await mk.doc("TU"), "3")
    return "GET", f"{V}/essays/rewrites", {"params": {"unit": _u(mk, s.unit)}}


@route("viewer", "GET /essays/summary")
async def _essay_summary(mk: Maker, s: Side) -> Request:
    doc = await mk.doc("TU")
    await mk.essay(s.unit, await mk.member(s.base), doc)
    return "GET", f"{V}/essays/summary", {"params": {"document": doc["id"], "unit": _u(mk, s.unit)}}


@route("editor", "POST /essays/import")
async def _essay_import(mk: Maker, s: Side) -> Request:
    member, doc = await mk.member(s.base), await mk.doc("TU")
    content = xlsx([["Mã đảng viên", "Điểm", "Ngày chấm"], [member["id"], 8.5, "2021-05-01"]])
    params = {"document": doc["id"], "unit": _u(mk, s.unit), "graded_on": "2021-05-01"}
    return "POST", f"{V}/essays/import", {"files": {"data": ("grades.xlsx", content)}, "params": params}


async def _consolidation(mk: Maker, s: Side) -> dict[str, Any]:
    doc = await _doc(mk, s)
    return {"params": {"document": doc["id"], "kind": "preliminary", "unit": _u(mk, s.unit)}}


@route("viewer", "GET /consolidations")
async def _consolidations(mk: Maker, s: Side) -> Request:
    return "GET", f"{V}/consolidations", await _consolidation(mk, s)


@route("viewer", "GET /consolidations/export.xlsx")
async def _consolidation_xlsx(mk: Maker, s: Side) -> Request:
    return "GET", f"{V}/consolidations/export.xlsx", await _consolidation(mk, s)


@route("viewer", "GET /consolidations/export.docx")
async def _consolidation_docx(mk: Maker, s: Side) -> Request:
    return "GET", f"{V}/consolidations/export.docx", await _consolidation(mk, s)


@route("admin", "GET /audit")
async def _audit(mk: Maker, s: Side) -> Request:
    await mk.member(s.base)
    return "GET", f"{V}/audit", {"params": {"unit": _u(mk, s.base)}}


@route("admin", "GET /audit/export")
async def _audit_xlsx(mk: Maker, s: Side) -> Request:
    await mk.member(s.base)
    return "GET", f"{V}/audit/export", {"params": {"unit": _u(mk, s.base)}}


@route("admin", "GET /sync/nodes")
async def _nodes(mk: Maker, s: Side) -> Request:
    return "GET", f"{V}/sync/nodes", {}
