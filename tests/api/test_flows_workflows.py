"""Domain workflows II across a real hub and real nodes over HTTP (D22, D25a, D25b, D26, D27): a questionnaire goes
down, responses entered offline at a base come up through its district and add up the same at every level; a report
returned by the district is corrected at the base and approved; completeness and timeliness agree at each level."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.drafts.records import REPORT_DECISION, REPORT_DRAFT
from shared.surveys.records import QUESTIONNAIRE, SURVEY_RESPONDENT, SURVEY_RESPONSE
from tests.domain_harness import account
from tests.harness import Cluster, Instance
from tests.workflow_harness import QUESTIONS, SECTIONS, answers

V = "/api/v1"


@pytest.fixture
async def cluster(tmp_path: Path, make_database_url: Any) -> AsyncIterator[Cluster]:
    c = Cluster(tmp_path, make_database_url)
    yield c
    await c.close()


async def _client(inst: Instance) -> httpx.AsyncClient:
    headers = await account(inst.db, inst.unit, "admin")
    return httpx.AsyncClient(base_url=inst.url or "", headers=headers, timeout=30)


async def _ok(client: httpx.AsyncClient, method: str, url: str, **kw: Any) -> Any:
    response = await client.request(method, url, **kw)
    assert response.status_code < 300, (url, response.text)
    return response.json()


async def test_d22_d25b_d26_survey_up_and_report_returned_corrected_and_approved_across_nodes(cluster: Cluster) -> None:
    hub = await cluster.hub()
    h1 = await cluster.node("H1", hub)
    b11 = await cluster.node("H1B1", h1)
    tu, dist, base = await _client(hub), await _client(h1), await _client(b11)
    u = {code: str(unit.id) for code, unit in cluster.units.items()}
    try:
        doc = await _ok(
            tu,
            "POST",
            f"{V}/documents",
            json={"number": "15-NQ/TU", "title": "Về học tập", "signed_on": "2021-03-01", "lead_agency": "BTG"},
        )
        q = await _ok(
            tu,
            "POST",
            f"{V}/questionnaires",
            json={
                "title": "Khảo sát",
                "opens_on": "2023-09-01",
                "closes_on": "2023-10-31",
                "questions": QUESTIONS,
                "selected_units": [u["H1B1"], u["H1B2"], u["H2B1"]],
                "document": doc["id"],
            },
        )
        await cluster.sync(h1)
        await cluster.sync(b11)
        assert q["id"] in {str(i) for i in await cluster.ids(b11, QUESTIONNAIRE)}, "the questionnaire went down"

        # Offline at the base: its own node's API, nothing reaches the hub until it syncs.
        person = await _ok(
            base,
            "POST",
            f"{V}/survey-respondents",
            json={"questionnaire": q["id"], "full_name": "Nguyễn Văn A", "group": "member"},
        )
        given = [
            (answers("Có", ("Hội nghị",), 5, "2"), person["id"], ""),
            (answers("Chưa", ("Tự học", "Trực tuyến"), 3, "0"), None, "public"),
            (answers("Có", ("Hội nghị", "Tự học"), 4, "6"), None, "cadre"),
        ]
        for ans, respondent, group in given:
            await _ok(
                base,
                "POST",
                f"{V}/survey-responses",
                json={
                    "questionnaire": q["id"],
                    "answered_on": "2023-09-20",
                    "answers": ans,
                    "respondent": respondent,
                    "group": group,
                },
            )
        # H1B2 has no node: the district's node enters its responses (single writer: H1 writes for it).
        await _ok(
            dist,
            "POST",
            f"{V}/survey-responses",
            json={
                "questionnaire": q["id"],
                "answered_on": "2023-09-21",
                "answers": answers(),
                "group": "member",
                "unit": u["H1B2"],
            },
        )
        assert not await cluster.ids(hub, SURVEY_RESPONSE)
        await cluster.sync(b11)
        await cluster.sync(h1)
        assert len(await cluster.ids(hub, SURVEY_RESPONSE)) == 4, "responses came up through the district"
        assert person["id"] in {str(i) for i in await cluster.ids(h1, SURVEY_RESPONDENT)}
        assert not await cluster.ids(hub, SURVEY_RESPONDENT), "respondents' names stop at the parent"

        at_hub = await _ok(tu, "GET", f"{V}/questionnaires/{q['id']}/aggregate")
        at_district = await _ok(dist, "GET", f"{V}/questionnaires/{q['id']}/aggregate")
        at_base = await _ok(base, "GET", f"{V}/questionnaires/{q['id']}/aggregate")
        assert (at_hub["responses"], at_district["responses"], at_base["responses"]) == (4, 4, 3)
        assert at_hub["questions"] == at_district["questions"], "district and hub agree (D22, D26)"
        q1, q2, q3, q4 = at_hub["questions"][:4]
        assert q1["counts"] == {"Có": 3, "Chưa": 1}
        assert q2["counts"] == {"Hội nghị": 3, "Trực tuyến": 1, "Tự học": 2}
        assert (q3["mean"], q4["total"]) == ("4.00", "11")
        assert {x["code"]: x["responses"] for x in at_hub["units"]} == {"H1": 4, "H2": 0}

        # The base's report: drafted, approved and sent up on time (due 2024-02-02, D25a).
        draft = await _ok(
            base,
            "POST",
            f"{V}/report-drafts",
            json={
                "document": doc["id"],
                "kind": "preliminary",
                "title": "Báo cáo sơ kết",
                "sections": SECTIONS,
                "written_on": "2024-01-05",
            },
        )
        durl = f"{V}/report-drafts/{draft['id']}"
        await _ok(base, "POST", f"{durl}/submit", json={"submitted_on": "2024-01-08"})
        await _ok(base, "POST", f"{durl}/approve", json={"approved_on": "2024-01-10"})
        await _ok(base, "POST", f"{durl}/issue", json={"issued_on": "2024-01-15", "report_number": "3-BC/ĐU"})
        await cluster.sync(b11)

        # The district comments and returns it for correction: its own records, addressed to the base.
        await _ok(
            dist,
            "POST",
            f"{V}/report-comments",
            json={"draft": draft["id"], "section": "2", "text": "Nêu rõ nguyên nhân hạn chế.", "made_on": "2024-01-16"},
        )
        ret = {"document": doc["id"], "kind": "preliminary", "subject_unit": u["H1B1"], "decided_on": "2024-01-16"}
        await _ok(dist, "POST", f"{V}/report-decisions", json={**ret, "action": "return", "reason": "Thiếu số liệu"})
        refused = await dist.post(f"{durl}/versions", json={"sections": SECTIONS, "written_on": "2024-01-17"})
        assert (refused.status_code, refused.json()["rule"]) == (409, "single_writer"), "never the base's draft"
        await cluster.sync(b11)
        returned = await _ok(base, "GET", durl)
        assert (returned["state"], returned["correct_by"]) == ("returned", "2024-01-23")
        comments = await _ok(base, "GET", f"{V}/report-comments", params={"draft": draft["id"]})
        assert [c["unit"] for c in comments] == [u["H1"]], "the district's comment reached the base"

        # Corrected at the base and sent again; the district accepts it.
        await _ok(
            base,
            "POST",
            f"{durl}/versions",
            json={"sections": SECTIONS, "written_on": "2024-01-18", "note": "Bổ sung số liệu"},
        )
        await _ok(base, "POST", f"{durl}/issue", json={"issued_on": "2024-01-19", "report_number": "3-BC/ĐU"})
        await cluster.sync(b11)
        await _ok(dist, "POST", f"{V}/report-decisions", json={**ret, "action": "accept", "decided_on": "2024-01-20"})

        # The district approves its own report once H1B1's is in and H1B2's is waived (D25b), and sends it late.
        h1_draft = await _ok(
            dist,
            "POST",
            f"{V}/report-drafts",
            json={
                "document": doc["id"],
                "kind": "preliminary",
                "title": "Báo cáo sơ kết",
                "sections": SECTIONS,
                "written_on": "2024-01-21",
            },
        )
        h1url = f"{V}/report-drafts/{h1_draft['id']}"
        await _ok(dist, "POST", f"{h1url}/submit", json={"submitted_on": "2024-01-22"})
        blocked = await dist.post(f"{h1url}/approve", json={"approved_on": "2024-01-25"})
        assert (blocked.status_code, blocked.json()["rule"]) == (409, "D25b")
        assert "H1B2" in blocked.json()["message"]
        await _ok(
            dist,
            "POST",
            f"{V}/report-decisions",
            json={**ret, "subject_unit": u["H1B2"], "action": "waive", "reason": "Đang sáp nhập"},
        )
        await _ok(dist, "POST", f"{h1url}/approve", json={"approved_on": "2024-01-25"})
        await _ok(dist, "POST", f"{h1url}/issue", json={"issued_on": "2024-02-20", "report_number": "4-BC/HU"})
        await cluster.sync(h1)
        await cluster.sync(b11)
        assert len(await cluster.ids(hub, REPORT_DRAFT)) == 2
        assert len(await cluster.ids(hub, REPORT_DECISION)) == 3
        assert len(await cluster.ids(b11, REPORT_DECISION)) == 2, "the base holds the decisions about its report"

        params = {"document": doc["id"], "kind": "preliminary", "today": "2024-02-21"}
        province = await _ok(tu, "GET", f"{V}/reports/completeness", params=params)
        district = await _ok(dist, "GET", f"{V}/reports/completeness", params=params)
        lv = {x["depth"]: x for x in province["levels"]}
        assert {k: lv[2][k] for k in ("expected", "received", "waived", "on_time", "overdue")} == {
            "expected": 4,
            "received": 1,
            "waived": 1,
            "on_time": 1,
            "overdue": 2,
        }
        assert {k: lv[1][k] for k in ("expected", "received", "late", "overdue")} == {
            "expected": 2,
            "received": 1,
            "late": 1,
            "overdue": 1,
        }
        assert (lv[0]["expected"], lv[0]["received"], lv[0]["overdue"]) == (1, 0, 0)
        units = {x["code"]: (x["state"], x["timeliness"]) for x in district["units"]}
        assert units == {"H1B1": ("accepted", "on_time"), "H1B2": ("waived", "overdue"), "H1": ("received", "late")}
        assert district["units"] == [x for x in province["units"] if x["code"] in units], "both levels agree"
        due = await _ok(tu, "GET", f"{V}/due", params={"today": "2024-02-21", "horizon_days": 30})
        reports = [(i["due"], i["responsible_code"]) for i in due["items"] if i["kind"] == "report"]
        assert sorted(reports) == reports, "most urgent first (D27)"
        assert sorted(reports) == [
            ("2024-02-02", "H2B1"),
            ("2024-02-02", "H2B2"),
            ("2024-02-16", "H2"),
            ("2024-03-01", "TU"),
        ]
    finally:
        for client in (tu, dist, base):
            await client.aclose()
