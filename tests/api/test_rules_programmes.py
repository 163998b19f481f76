"""Rules D14, D15, D18 and D22 through the API, on SQLite and PostgreSQL: programmes, their progress, questionnaires.

Every refusal names the field and the rule, in Vietnamese with English beside it, and changes nothing.
"""

from __future__ import annotations

from typing import Any

from tests.api.refusals import refused_unchanged
from tests.domain_harness import Api
from tests.workflow_harness import FlowMaker, answers, target

V = "/api/v1"


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
        await refused_unchanged(api, "POST", url, 422, field, rule, json={**base, **change})
    await refused_unchanged(api, "POST", url, 409, "document", "D14", json={**base, "unit": h1})
    await refused_unchanged(api, "POST", url, 422, "unit", "D14", json={**base, "unit": str(api.id("H1B1C1"))})
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
    await refused_unchanged(api, "POST", url, 422, "year", "D18", json={**body, "year": 2019})
    await refused_unchanged(api, "POST", url, 422, "reported_on", "D18", json={**body, "reported_on": "2020-12-01"})
    await refused_unchanged(api, "POST", url, 422, "target", "D15", json={**body, "target": programme["id"]})
    await refused_unchanged(api, "POST", url, 422, "programme", "D18", json={**body, "programme": key})
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
        await refused_unchanged(api, "POST", url, 422, field, "D22", json={**base, **change})
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
        await refused_unchanged(api, "POST", rurl, 422, field, "D22", json={**ok, **extra})
    await refused_unchanged(
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
