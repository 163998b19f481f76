"""Rules D14, D15, D18, D22-D25b and D27 through the API, on SQLite and PostgreSQL: inputs and what the API answers.

Every refusal names the field and the rule, in Vietnamese with English beside it, and changes nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from shared.sync.tables import FeedCounter
from tests.domain_harness import Api
from tests.workflow_harness import SECTIONS, FlowMaker, answers, target

V = "/api/v1"


async def _head(api: Api) -> int:
    async with api.db.read() as conn:
        return int((await conn.execute(select(FeedCounter.last))).scalar_one())


async def _refused(api: Api, method: str, url: str, status: int, field: str, rule: str, **kw: Any) -> dict[str, Any]:
    """Send a request that must be refused naming `field` and `rule`, and check nothing was written."""
    who = kw.pop("who", ("TU", "admin"))
    before = await _head(api)
    response = await api.call(method, url, who, **kw)
    assert response.status_code == status, (url, kw, response.text)
    body = dict(response.json())
    assert (body["field"], body["rule"]) == (field, rule), body
    assert body["message"]
    assert body["message_en"]
    assert body["message"] != body["message_en"]
    assert await _head(api) == before, "a refusal changes nothing"
    return body


async def test_d14_d15_a_programme_has_quantitative_targets_and_tasks_in_its_subtree(api: Api) -> None:
    mk = FlowMaker(api)
    doc = await mk.doc()
    h1, h1b1 = str(api.id("H1")), str(api.id("H1B1"))
    task = {"title": "Tổ chức học tập", "lead_unit": h1b1, "supporting_units": [h1]}
    programme = await mk.programme("H1", doc, tasks=[task], number="5-ctr/hu")
    assert programme["number"] == "05-CTr/HU"
    assert programme["targets"][0]["baseline"] == "85"
    base = {
        "document": doc["id"],
        "title": "Kế hoạch",
        "issued_on": "2021-04-01",
        "situation": "Đã khảo sát.",
        "targets": [target()],
        "unit": str(api.id("H2")),
    }
    url = f"{V}/action-programmes"
    table = [
        ({"situation": " "}, "situation", "D15"),
        ({"targets": []}, "targets", "D15"),
        ({"targets": [target(baseline_source="")]}, "targets[0].baseline_source", "D15"),
        ({"targets": [target(measure=" ")]}, "targets[0].measure", "D15"),
        ({"targets": [target(deadline="2021-01-01")]}, "targets[0].deadline", "D15"),
        ({"tasks": [{**task, "lead_unit": h1b1}]}, "tasks[0].lead_unit", "D4"),
        ({"kind": "wish"}, "kind", "D14"),
        ({"title": ""}, "title", "D14"),
        ({"issued_on": "2020-01-01", "targets": [target(deadline="2023-01-01")]}, "issued_on", "D14"),
        ({"number": "abc"}, "number", "D5a"),
    ]
    for change, field, rule in table:
        await _refused(api, "POST", url, 422, field, rule, json={**base, **change})
    await _refused(api, "POST", url, 409, "document", "D14", json={**base, "unit": h1})
    await _refused(api, "POST", url, 422, "unit", "D14", json={**base, "unit": str(api.id("H1B1C1"))})
    seen_below = await api.ok("GET", url, ("H1B1", "viewer"))
    assert [p["id"] for p in seen_below] == [programme["id"]], "a programme travels down its unit's subtree"
    assert await api.ok("GET", url, ("H2B1", "viewer")) == [], "never to a sibling's subtree (D4)"
    coverage = await api.ok("GET", f"{url}/coverage", params={"document": doc["id"]})
    built = {c["code"]: c["programme"] for c in coverage}
    assert built["H1"] == programme["id"]
    assert built["H2"] is None
    assert "H1B1C1" not in built, "a cell carries out its base's programme (D14 assumption)"
    edited = await api.ok(
        "PATCH",
        f"{url}/{programme['id']}",
        json={"rev": 1, "targets": [{**target(), "key": programme["targets"][0]["key"]}]},
    )
    assert edited["rev"] == 2
    assert edited["targets"][0]["key"] == programme["targets"][0]["key"]


async def test_d18_progress_is_reported_per_target_per_year(api: Api) -> None:
    mk = FlowMaker(api)
    programme = await mk.programme("H1", await mk.doc())
    key = programme["targets"][0]["key"]
    url = f"{V}/programme-progress"
    body = {"programme": programme["id"], "target": key, "year": 2021, "value": "90", "reported_on": "2021-12-20"}
    first = await api.ok("POST", url, json=body)
    again = await api.ok("POST", url, json={**body, "value": "91,5".replace(",", ".")})
    assert (again["id"], again["rev"], again["value"]) == (first["id"], 2, "91.5"), "one figure per target and year"
    await _refused(api, "POST", url, 422, "year", "D18", json={**body, "year": 2019})
    await _refused(api, "POST", url, 422, "reported_on", "D18", json={**body, "reported_on": "2020-12-01"})
    await _refused(api, "POST", url, 422, "target", "D15", json={**body, "target": programme["id"]})
    await _refused(api, "POST", url, 422, "programme", "D18", json={**body, "programme": key})
    await api.ok("POST", url, json={**body, "year": 2022, "value": "99", "reported_on": "2022-12-30"})
    status = await api.ok("GET", f"{V}/action-programmes/{programme['id']}")
    assert status["progress"] == [
        {"key": key, "latest_year": 2022, "latest_value": "99", "achieved": True, "state": "met"}
    ]
    due = await api.ok("GET", f"{V}/due", ("H1", "viewer"), params={"today": "2024-01-10"})
    years = [i["subject"] for i in due["items"] if i["kind"] == "progress"]
    assert years == ["Chương trình hành động thực hiện nghị quyết: Tỷ lệ đảng viên viết bài thu hoạch (2023)"]


async def test_d22_questionnaires_go_down_responses_are_checked_and_aggregated_per_level(api: Api) -> None:
    mk = FlowMaker(api)
    q = await mk.questionnaire("TU", selected_units=[str(api.id("H1B1")), str(api.id("H1B2"))])
    base = {
        "title": "Phiếu",
        "opens_on": "2023-09-01",
        "closes_on": "2023-10-31",
        "questions": [],
        "unit": str(api.id("H1")),
    }
    single = {"key": "a", "kind": "single", "text": "Chọn", "options": ["x", "y"]}
    url = f"{V}/questionnaires"
    for change, field in [
        ({}, "questions"),
        ({"questions": [single, single]}, "questions[1].key"),
        ({"questions": [{**single, "options": ["x"]}]}, "questions[0].options"),
        (
            {"questions": [{"key": "s", "kind": "scale", "text": "T", "scale_min": 5, "scale_max": 5}]},
            "questions[0].scale_max",
        ),
        ({"questions": [{"key": "s", "kind": "essay", "text": "T"}]}, "questions[0].kind"),
        ({"questions": [single], "method": "phone"}, "method"),
        ({"questions": [single], "closes_on": "2023-08-01"}, "closes_on"),
        ({"questions": [single], "selected_units": [str(api.id("H2B1"))]}, "selected_units[0]"),
    ]:
        await _refused(api, "POST", url, 422, field, "D22", json={**base, **change})
    assert [x["id"] for x in await api.ok("GET", url, ("H1B1", "viewer"))] == [q["id"]], "it travels down (D22)"

    person = await api.ok(
        "POST",
        f"{V}/survey-respondents",
        json={"questionnaire": q["id"], "full_name": "Lê  Thị  B", "group": "cadre", "unit": str(api.id("H1B1"))},
    )
    assert person["full_name"] == "Lê Thị B"
    given = [
        ("H1B1", answers("Có", ("Hội nghị", "Tự học"), 5, "4"), person["id"]),
        ("H1B1", answers("Chưa", ("Trực tuyến",), 2, "1.5"), None),
        ("H1B2", answers("Có", ("Hội nghị",), 4, "3"), None),
    ]
    for unit, ans, respondent in given:
        await mk.response(unit, q, answers=ans, respondent=respondent)
    rurl = f"{V}/survey-responses"
    ok = {"questionnaire": q["id"], "answered_on": "2023-09-15", "group": "member", "unit": str(api.id("H1B1"))}
    bad: list[tuple[list[dict[str, Any]] | dict[str, Any], str]] = [
        ([*answers(), {"question": "zz", "text": "?"}], "answers[4].question"),
        ([{"question": "q1", "choices": ["Có", "Chưa"]}, *answers()[1:]], "answers[0].choices"),
        ([*answers()[:2], {"question": "q3", "value": 6}, answers()[3]], "answers[2].value"),
        ([*answers()[:2], {"question": "q3", "value": "3.5"}, answers()[3]], "answers[2].value"),
        (answers()[:3], "answers"),
        ({"answered_on": "2023-11-01", "answers": answers()}, "answered_on"),
        ({"unit": str(api.id("H1")), "answers": answers()}, "unit"),
        ({"group": "", "answers": answers()}, "group"),
    ]
    for change, field in bad:
        extra = change if isinstance(change, dict) else {"answers": change}
        await _refused(api, "POST", rurl, 422, field, "D22", json={**ok, **extra})
    await _refused(
        api, "POST", rurl, 409, "respondent", "D22", json={**ok, "answers": answers(), "respondent": person["id"]}
    )

    at = {}
    for code in ("H1B1", "H1", "TU"):
        at[code] = await api.ok("GET", f"{url}/{q['id']}/aggregate", (code, "viewer"))
    assert at["H1B1"]["responses"] == 2
    assert at["H1"]["responses"] == 3
    assert at["TU"]["responses"] == 3
    assert at["H1"]["questions"] == at["TU"]["questions"], "district and province agree (D22)"
    q1, q2, q3, q4 = at["TU"]["questions"][:4]
    assert q1["counts"] == {"Có": 2, "Chưa": 1}
    assert q2["counts"] == {"Hội nghị": 2, "Trực tuyến": 1, "Tự học": 1}
    assert (q3["counts"], q3["mean"]) == ({"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}, "3.67")
    assert (q4["total"], q4["minimum"], q4["maximum"], q4["mean"]) == ("8.5", "1.5", "4", "2.83")
    assert at["TU"]["questions"][4]["answered"] == 0
    by_unit = {u["code"]: u["responses"] for u in at["H1"]["units"]}
    assert by_unit == {"H1B1": 2, "H1B2": 1}
    cadres = await api.ok("GET", f"{url}/{q['id']}/aggregate", params={"group": "cadre"})
    assert cadres["responses"] == 1, "responses carry the respondent's group, never a name"
    sibling = await api.ok("GET", f"{url}/{q['id']}/aggregate", ("H2", "viewer"))
    assert sibling["responses"] == 0, "a sibling district sees its own subtree's figures only (D4)"


async def test_d23_d24_versions_meetings_and_comments_are_each_units_own_records(api: Api) -> None:
    mk = FlowMaker(api)
    doc = await mk.doc()
    draft = await mk.draft("H1B1", doc)
    url = f"{V}/report-drafts/{draft['id']}"
    await _refused(
        api,
        "POST",
        f"{V}/report-drafts",
        409,
        "document",
        "D24",
        json={
            "document": doc["id"],
            "kind": "preliminary",
            "title": "T",
            "sections": SECTIONS,
            "written_on": "2024-01-05",
            "unit": str(api.id("H1B1")),
        },
    )
    await _refused(
        api,
        "POST",
        f"{V}/report-drafts",
        422,
        "sections[1].key",
        "D24",
        json={
            "document": doc["id"],
            "kind": "final",
            "title": "T",
            "sections": [SECTIONS[0], SECTIONS[0]],
            "written_on": "2024-01-05",
            "unit": str(api.id("H1B1")),
        },
    )
    await _refused(
        api,
        "POST",
        f"{V}/report-drafts",
        422,
        "kind",
        "D16",
        json={"document": doc["id"], "kind": "yearly", "title": "T", "sections": SECTIONS, "written_on": "2024-01-05"},
    )
    meeting = await api.ok(
        "POST",
        f"{V}/report-meetings",
        json={
            "draft": draft["id"],
            "kind": "workshop",
            "title": "Hội thảo góp ý",
            "held_on": "2024-01-06",
            "participants": [
                {"name": "PGS. Trần C", "category": "scientist"},
                {"name": "Ban Tuyên giáo", "category": "agency"},
            ],
        },
    )
    await _refused(
        api,
        "POST",
        f"{V}/report-meetings",
        422,
        "participants[0].category",
        "D23",
        json={
            "draft": draft["id"],
            "kind": "workshop",
            "title": "H",
            "held_on": "2024-01-06",
            "participants": [{"name": "X", "category": "journalist"}],
        },
    )
    await _refused(
        api,
        "POST",
        f"{V}/report-meetings",
        422,
        "kind",
        "D23",
        json={"draft": draft["id"], "kind": "party", "title": "H", "held_on": "2024-01-06", "participants": []},
    )
    from_district = await api.ok(
        "POST",
        f"{V}/report-comments",
        ("H1", "editor"),
        json={"draft": draft["id"], "section": "2", "text": "Nêu rõ nguyên nhân.", "made_on": "2024-01-07"},
    )
    at_workshop = await api.ok(
        "POST",
        f"{V}/report-comments",
        json={
            "draft": draft["id"],
            "section": "1",
            "text": "Bổ sung số liệu.",
            "made_on": "2024-01-06",
            "meeting": meeting["id"],
            "commenter": "PGS. Trần C",
            "unit": str(api.id("H1B1")),
        },
    )
    assert from_district["unit"] == str(api.id("H1")), "the commenting unit owns its comment, not the draft's unit"
    await _refused(
        api,
        "POST",
        f"{V}/report-comments",
        422,
        "section",
        "D24",
        json={"draft": draft["id"], "section": "9", "text": "?", "made_on": "2024-01-07"},
    )
    await _refused(
        api,
        "POST",
        f"{V}/report-comments",
        422,
        "version",
        "D24",
        json={"draft": draft["id"], "section": "1", "version": 4, "text": "?", "made_on": "2024-01-07"},
    )
    await _refused(
        api,
        "POST",
        f"{V}/report-comments",
        422,
        "draft",
        "D23",
        who=("H2", "editor"),
        json={"draft": draft["id"], "section": "1", "text": "?", "made_on": "2024-01-07"},
    )
    seen = await api.ok("GET", f"{V}/report-comments", ("H1B1", "viewer"), params={"draft": draft["id"]})
    assert {c["id"] for c in seen} == {from_district["id"], at_workshop["id"]}
    v2 = await api.ok(
        "POST",
        f"{url}/versions",
        json={
            "sections": [*SECTIONS, {"key": "3", "heading": "Nguyên nhân", "text": "..."}],
            "written_on": "2024-01-08",
            "note": "Tiếp thu góp ý hội thảo",
            "rev": draft["rev"],
        },
    )
    assert [v["number"] for v in v2["versions"]] == [1, 2], "every version is kept (D24)"
    assert v2["versions"][0]["sections"] == draft["versions"][0]["sections"]
    await _refused(
        api,
        "POST",
        f"{url}/versions",
        422,
        "written_on",
        "D24",
        json={"sections": SECTIONS, "written_on": "2024-01-01"},
    )
    await _refused(
        api,
        "POST",
        f"{url}/versions",
        409,
        "rev",
        "rev",
        json={"sections": SECTIONS, "written_on": "2024-01-09", "rev": 1},
    )
    await _refused(api, "POST", f"{url}/approve", 422, "approved_on", "D24", json={"approved_on": "2024-01-09"})
    submitted = await api.ok("POST", f"{url}/submit", json={"submitted_on": "2024-01-09"})
    assert (submitted["submitted_version"], submitted["state"]) == (2, "submitted")
    assert (await api.call("GET", url, ("H2", "viewer"))).status_code == 404, "D4"


async def test_d25_the_report_is_issued_within_10_days_of_approval_else_flagged_late(api: Api) -> None:
    mk = FlowMaker(api)
    doc = await mk.doc()
    draft = await mk.submitted("H1B1", doc)
    url = f"{V}/report-drafts/{draft['id']}"
    await _refused(
        api,
        "POST",
        f"{url}/issue",
        422,
        "issued_on",
        "D25",
        json={"issued_on": "2024-01-20", "report_number": "1-BC/ĐU"},
    )
    await _refused(api, "POST", f"{url}/approve", 422, "approved_on", "D24", json={"approved_on": "2024-01-01"})
    await _refused(
        api, "POST", f"{url}/approve", 403, None, "role", who=("TU", "editor"), json={"approved_on": "2024-01-10"}
    )
    approved = await api.ok("POST", f"{url}/approve", json={"approved_on": "2024-01-10"})
    assert (approved["issuance_deadline"], approved["issuance_late"]) == ("2024-01-20", False)
    late_open = await api.ok("GET", url, params={"today": "2024-01-21"})
    assert late_open["issuance_late"] is True, "unissued past the deadline is late (D25)"
    await _refused(
        api,
        "POST",
        f"{url}/issue",
        422,
        "issued_on",
        "D25",
        json={"issued_on": "2024-01-09", "report_number": "1-BC/ĐU"},
    )
    await _refused(
        api,
        "POST",
        f"{url}/issue",
        422,
        "report_number",
        "D5a",
        json={"issued_on": "2024-01-21", "report_number": "BC"},
    )
    issued = await api.ok("POST", f"{url}/issue", json={"issued_on": "2024-01-21", "report_number": "3-BC/ĐU"})
    assert (issued["issuance_late"], issued["state"], issued["issuances"][0]["report_number"]) == (
        True,
        "received",
        "03-BC/ĐU",
    )
    await _refused(
        api, "POST", f"{url}/versions", 409, "version", "D25b", json={"sections": SECTIONS, "written_on": "2024-01-22"}
    )


async def test_d25a_due_dates_cascade_down_the_tree(api: Api) -> None:
    mk = FlowMaker(api)
    doc = await mk.doc(signed_on="2021-03-01")
    report = await api.ok("GET", f"{V}/reports/completeness", params={"document": doc["id"], "kind": "preliminary"})
    due = {u["code"]: u["due"] for u in report["units"]}
    assert due == {
        "TU": "2024-03-01",
        "H1": "2024-02-16",
        "H2": "2024-02-16",
        "H1B1": "2024-02-02",
        "H1B2": "2024-02-02",
        "H2B1": "2024-02-02",
    }, "14 days per level (D25a); armed forces apart (D3)"
    assert [u["depth"] for u in report["units"]] == [2, 2, 2, 1, 1, 0], "bottom-up order (D21)"
    at_district = await api.ok(
        "GET", f"{V}/reports/completeness", ("H1", "viewer"), params={"document": doc["id"], "kind": "preliminary"}
    )
    assert {u["code"] for u in at_district["units"]} == {"H1", "H1B1", "H1B2"}


async def test_d25b_a_level_approves_once_lower_reports_are_in_or_waived_and_returns_with_a_reason(api: Api) -> None:
    mk = FlowMaker(api)
    doc = await mk.doc()
    d = {"document": doc["id"], "kind": "preliminary", "decided_on": "2024-01-16"}
    h1b1 = str(api.id("H1B1"))
    h1_draft = await mk.submitted("H1", doc)
    h1_url = f"{V}/report-drafts/{h1_draft['id']}"
    body = await _refused(
        api, "POST", f"{h1_url}/approve", 409, "approved_on", "D25b", json={"approved_on": "2024-01-20"}
    )
    assert "H1B1" in body["message"]
    assert "H1B2" in body["message"]
    await _refused(
        api,
        "POST",
        f"{V}/report-decisions",
        409,
        "subject_unit",
        "D25b",
        who=("H1", "admin"),
        json={**d, "action": "return", "subject_unit": h1b1, "reason": "Thiếu số liệu"},
    )
    base = await mk.sent("H1B1", doc, issued_on="2024-01-15")
    await _refused(
        api,
        "POST",
        f"{V}/report-decisions",
        422,
        "reason",
        "D25b",
        who=("H1", "admin"),
        json={**d, "action": "return", "subject_unit": h1b1},
    )
    await _refused(
        api,
        "POST",
        f"{V}/report-decisions",
        403,
        None,
        "role",
        who=("H1", "editor"),
        json={**d, "action": "return", "subject_unit": h1b1, "reason": "x"},
    )
    await _refused(
        api,
        "POST",
        f"{V}/report-decisions",
        422,
        "subject_unit",
        "D25b",
        who=("H1", "admin"),
        json={**d, "action": "accept", "subject_unit": str(api.id("H1"))},
    )
    returned = await api.ok(
        "POST",
        f"{V}/report-decisions",
        ("H1", "admin"),
        json={**d, "action": "return", "subject_unit": h1b1, "reason": "Thiếu số liệu"},
    )
    assert (returned["unit"], returned["version"], returned["draft"]) == (str(api.id("H1")), 1, base["id"])
    at_base = await api.ok("GET", f"{V}/report-drafts/{base['id']}", ("H1B1", "viewer"))
    assert (at_base["state"], at_base["rev"], at_base["correct_by"]) == ("returned", base["rev"], "2024-01-23"), (
        "the draft is untouched; the return is the district's own record (single writer)"
    )
    base_url = f"{V}/report-drafts/{base['id']}"
    await _refused(
        api,
        "POST",
        f"{base_url}/issue",
        409,
        "version",
        "D25b",
        json={"issued_on": "2024-01-18", "report_number": "9-BC/ĐU"},
    )
    await api.ok(
        "POST",
        f"{base_url}/versions",
        json={"sections": SECTIONS, "written_on": "2024-01-17", "note": "Bổ sung số liệu"},
    )
    resent = await api.ok("POST", f"{base_url}/issue", json={"issued_on": "2024-01-18", "report_number": "9-BC/ĐU"})
    assert resent["state"] == "received"
    await api.ok("POST", f"{V}/report-decisions", ("H1", "admin"), json={**d, "action": "accept", "subject_unit": h1b1})
    await _refused(
        api,
        "POST",
        f"{V}/report-decisions",
        422,
        "reason",
        "D25b",
        who=("H1", "admin"),
        json={**d, "action": "waive", "subject_unit": str(api.id("H1B2"))},
    )
    await _refused(
        api,
        "POST",
        f"{V}/report-decisions",
        422,
        "subject_unit",
        "D25b",
        who=("TU", "admin"),
        json={**d, "action": "waive", "subject_unit": str(api.id("H1B2")), "reason": "Sáp nhập"},
    )
    await api.ok(
        "POST",
        f"{V}/report-decisions",
        ("H1", "admin"),
        json={**d, "action": "waive", "subject_unit": str(api.id("H1B2")), "reason": "Đang sáp nhập"},
    )
    approved = await api.ok("POST", f"{h1_url}/approve", json={"approved_on": "2024-01-20"})
    assert approved["state"] == "approved"
    await api.ok("POST", f"{h1_url}/issue", json={"issued_on": "2024-02-20", "report_number": "4-BC/HU"})
    report = await api.ok(
        "GET", f"{V}/reports/completeness", params={"document": doc["id"], "kind": "preliminary", "today": "2024-02-21"}
    )
    levels = {lv["depth"]: lv for lv in report["levels"]}
    assert (
        levels[2]["expected"],
        levels[2]["received"],
        levels[2]["waived"],
        levels[2]["on_time"],
        levels[2]["overdue"],
    ) == (3, 1, 1, 1, 1)
    assert (levels[1]["expected"], levels[1]["received"], levels[1]["late"], levels[1]["overdue"]) == (2, 1, 1, 1)
    assert (levels[0]["received"], levels[0]["overdue"]) == (0, 0), "the province is due 2024-03-01"
    states = {u["code"]: u["state"] for u in report["units"]}
    assert states == {
        "H1B1": "accepted",
        "H1B2": "waived",
        "H2B1": "missing",
        "H1": "received",
        "H2": "missing",
        "TU": "missing",
    }
    assert report["total"]["missing"] == 3


async def test_d27_what_is_due_lists_open_deadlines_of_the_subtree_by_urgency_with_who_acts(api: Api) -> None:
    mk = FlowMaker(api)
    doc = await mk.doc(signed_on="2021-03-01")
    await mk.programme("H1B1", doc)
    await mk.essay("H1", await mk.member("H1B1"), doc, "3,5")
    approved = await mk.submitted("H1B2", doc)
    await api.ok("POST", f"{V}/report-drafts/{approved['id']}/approve", json={"approved_on": "2024-01-10"})
    sent = await mk.sent("H1B1", doc)
    await api.ok(
        "POST",
        f"{V}/report-decisions",
        ("H1", "admin"),
        json={
            "document": doc["id"],
            "kind": "preliminary",
            "decided_on": "2024-01-16",
            "action": "return",
            "subject_unit": str(api.id("H1B1")),
            "reason": "Sửa",
            "correct_by": "2024-01-25",
        },
    )
    due = await api.ok("GET", f"{V}/due", ("H1", "viewer"), params={"today": "2024-01-22", "horizon_days": 60})
    got = [(i["kind"], i["responsible_code"], i["due"]) for i in due["items"]]
    assert got == [
        ("progress", "H1B1", "2021-12-31"),
        ("progress", "H1B1", "2022-12-31"),
        ("progress", "H1B1", "2023-12-31"),
        ("issuance", "H1B2", "2024-01-20"),
        ("correction", "H1B1", "2024-01-25"),
        ("report", "H1", "2024-02-16"),
        ("rewrite", "H1B1", None),
    ]
    assert [i["late"] for i in due["items"]] == [True, True, True, True, False, False, False]
    assert (due["total"], due["late"]) == (7, 4)
    assert sent["id"] in {i["ref"] for i in due["items"]}
    at_top = await api.ok("GET", f"{V}/due", params={"today": "2024-01-22", "horizon_days": 60})
    plan = [i for i in at_top["items"] if i["kind"] == "plan"]
    assert [(i["responsible_code"], i["due"]) for i in plan] == [("TU", "2024-01-01")], "D20: plan 2 months before"
    assert {"H2", "H2B1"} <= {i["responsible_code"] for i in at_top["items"]}
    assert not {"H2", "H2B1"} & {i["responsible_code"] for i in due["items"]}, "a district sees its own subtree (D4)"
    await _refused(api, "GET", f"{V}/due", 422, "horizon_days", "D27", params={"horizon_days": -1})
