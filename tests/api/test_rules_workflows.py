"""Rules D23-D25b and D27 through the API, on SQLite and PostgreSQL: report drafts, approval, what is due.

Every refusal names the field and the rule, in Vietnamese with English beside it, and changes nothing.
"""

from __future__ import annotations

from tests.api.refusals import refused_unchanged
from tests.domain_harness import Api
from tests.workflow_harness import SECTIONS, FlowMaker

V = "/api/v1"


async def test_d23_d24_versions_meetings_and_comments_are_each_units_own_records(api: Api) -> None:
    mk = FlowMaker(api)
    doc = await mk.doc()
    draft = await mk.draft("H1B1", doc)
    url = f"{V}/report-drafts/{draft['id']}"
    await refused_unchanged(
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
    await refused_unchanged(
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
    await refused_unchanged(
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
    await refused_unchanged(
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
    await refused_unchanged(
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
    await refused_unchanged(
        api,
        "POST",
        f"{V}/report-comments",
        422,
        "section",
        "D24",
        json={"draft": draft["id"], "section": "9", "text": "?", "made_on": "2024-01-07"},
    )
    await refused_unchanged(
        api,
        "POST",
        f"{V}/report-comments",
        422,
        "version",
        "D24",
        json={"draft": draft["id"], "section": "1", "version": 4, "text": "?", "made_on": "2024-01-07"},
    )
    await refused_unchanged(
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
    await refused_unchanged(
        api,
        "POST",
        f"{url}/versions",
        422,
        "written_on",
        "D24",
        json={"sections": SECTIONS, "written_on": "2024-01-01"},
    )
    await refused_unchanged(
        api,
        "POST",
        f"{url}/versions",
        409,
        "rev",
        "rev",
        json={"sections": SECTIONS, "written_on": "2024-01-09", "rev": 1},
    )
    await refused_unchanged(
        api, "POST", f"{url}/approve", 422, "approved_on", "D24", json={"approved_on": "2024-01-09"}
    )
    submitted = await api.ok("POST", f"{url}/submit", json={"submitted_on": "2024-01-09"})
    assert (submitted["submitted_version"], submitted["state"]) == (2, "submitted")
    assert (await api.call("GET", url, ("H2", "viewer"))).status_code == 404, "D4"


async def test_d25_the_report_is_issued_within_10_days_of_approval_else_flagged_late(api: Api) -> None:
    mk = FlowMaker(api)
    doc = await mk.doc()
    draft = await mk.submitted("H1B1", doc)
    url = f"{V}/report-drafts/{draft['id']}"
    await refused_unchanged(
        api,
        "POST",
        f"{url}/issue",
        422,
        "issued_on",
        "D25",
        json={"issued_on": "2024-01-20", "report_number": "1-BC/ĐU"},
    )
    await refused_unchanged(
        api, "POST", f"{url}/approve", 422, "approved_on", "D24", json={"approved_on": "2024-01-01"}
    )
    await refused_unchanged(
        api, "POST", f"{url}/approve", 403, None, "role", who=("TU", "editor"), json={"approved_on": "2024-01-10"}
    )
    approved = await api.ok("POST", f"{url}/approve", json={"approved_on": "2024-01-10"})
    assert (approved["issuance_deadline"], approved["issuance_late"]) == ("2024-01-20", False)
    late_open = await api.ok("GET", url, params={"today": "2024-01-21"})
    assert late_open["issuance_late"] is True, "unissued past the deadline is late (D25)"
    await refused_unchanged(
        api,
        "POST",
        f"{url}/issue",
        422,
        "issued_on",
        "D25",
        json={"issued_on": "2024-01-09", "report_number": "1-BC/ĐU"},
    )
    await refused_unchanged(
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
    await refused_unchanged(
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
    body = await refused_unchanged(
        api, "POST", f"{h1_url}/approve", 409, "approved_on", "D25b", json={"approved_on": "2024-01-20"}
    )
    assert "H1B1" in body["message"]
    assert "H1B2" in body["message"]
    await refused_unchanged(
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
    await refused_unchanged(
        api,
        "POST",
        f"{V}/report-decisions",
        422,
        "reason",
        "D25b",
        who=("H1", "admin"),
        json={**d, "action": "return", "subject_unit": h1b1},
    )
    await refused_unchanged(
        api,
        "POST",
        f"{V}/report-decisions",
        403,
        None,
        "role",
        who=("H1", "editor"),
        json={**d, "action": "return", "subject_unit": h1b1, "reason": "x"},
    )
    await refused_unchanged(
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
    await refused_unchanged(
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
    await refused_unchanged(
        api,
        "POST",
        f"{V}/report-decisions",
        422,
        "reason",
        "D25b",
        who=("H1", "admin"),
        json={**d, "action": "waive", "subject_unit": str(api.id("H1B2"))},
    )
    await refused_unchanged(
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
    await refused_unchanged(api, "GET", f"{V}/due", 422, "horizon_days", "D27", params={"horizon_days": -1})
