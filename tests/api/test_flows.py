"""Each record type written through the API flows exactly as its ceiling and audience say, and no further (D4, D6,
D11, D12, D26), between a real hub and real nodes over HTTP; each instance has its own accounts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.calendar.records import REVIEW_OVERRIDE, REVIEW_PLAN, REVIEW_PROJECT, REVIEW_REPORT
from shared.documents.records import DOCUMENT
from shared.essays.records import ESSAY_GRADE, ESSAY_TEMPLATE
from shared.members.records import MEMBER
from shared.study.records import PROPAGANDA, STUDY_SESSION
from tests.domain_harness import account
from tests.harness import Cluster, Instance

V = "/api/v1"


@pytest.fixture
async def cluster(tmp_path: Path, make_database_url: Any) -> AsyncIterator[Cluster]:
    c = Cluster(tmp_path, make_database_url)
    yield c
    await c.close()


async def _client(inst: Instance) -> httpx.AsyncClient:
    headers = await account(inst.db, inst.unit, "admin")
    return httpx.AsyncClient(base_url=inst.url or "", headers=headers, timeout=30)


async def _post(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(url, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_d4_d6_d11_d12_each_type_flows_as_its_ceiling_and_audience_say(cluster: Cluster) -> None:
    hub = await cluster.hub()
    h1, h2 = await cluster.node("H1", hub), await cluster.node("H2", hub)
    b11, b21 = await cluster.node("H1B1", h1), await cluster.node("H2B1", h2)
    tu_api, h1_api, b11_api = await _client(hub), await _client(h1), await _client(b11)
    try:
        doc = await _post(
            tu_api,
            f"{V}/documents",
            {"number": "15-NQ/TU", "title": "Về học tập", "signed_on": "2021-03-01", "lead_agency": "Ban Tuyên giáo"},
        )
        tu_template = await _post(
            tu_api,
            f"{V}/essay-templates",
            {"document": doc["id"], "title": "Mẫu tỉnh", "questions": ["Điểm mới?"], "issued_on": "2021-03-10"},
        )
        override = await _post(
            tu_api,
            f"{V}/review-overrides",
            {
                "document": doc["id"],
                "kind": "final",
                "due": "2025-06-01",
                "reason": "Chỉ đạo",
                "instructing_document": "3-CV/TU",
            },
        )
        plan = await _post(
            tu_api,
            f"{V}/review-plans",
            {"plan_kind": "year", "number": "2-KH/TU", "issued_on": "2023-12-01", "year": 2024},
        )
        own_node = await tu_api.post(
            f"{V}/propaganda",
            json={
                "channel": "it",
                "period_start": "2021-01-01",
                "period_end": "2021-01-31",
                "count": 1,
                "reached": 1,
                "unit": str(h1.unit),
            },
        )
        assert own_node.status_code == 409, "H1 has its own node: its records are written there (single writer)"
        for node in (h1, h2, b11, b21):
            await cluster.sync(node)

        h1_template = await _post(
            h1_api,
            f"{V}/essay-templates",
            {"document": doc["id"], "title": "Mẫu huyện", "questions": ["Liên hệ?"], "issued_on": "2021-03-20"},
        )
        member = await _post(b11_api, f"{V}/members", {"full_name": "Nguyễn Văn A", "birth_year": 1980})
        essay = await _post(
            b11_api,
            f"{V}/essays",
            {"member": member["id"], "document": doc["id"], "score": "4,5", "graded_on": "2021-05-01"},
        )
        session = await _post(
            b11_api,
            f"{V}/study-sessions",
            {
                "title": "Học tập",
                "documents": [doc["id"]],
                "held_on": "2021-04-01",
                "form": "in_person",
                "invited": 30,
                "attended": 29,
            },
        )
        propaganda = await _post(
            b11_api,
            f"{V}/propaganda",
            {
                "channel": "loudspeaker",
                "period_start": "2021-04-01",
                "period_end": "2021-04-30",
                "count": 8,
                "reached": 900,
            },
        )
        report = await _post(
            b11_api, f"{V}/review-reports", {"document": doc["id"], "kind": "preliminary", "held_on": "2024-02-01"}
        )
        project = await _post(
            b11_api,
            f"{V}/review-projects",
            {"document": doc["id"], "kind": "final", "title": "Đề án", "proposed_on": "2024-06-01"},
        )
        above = await b11_api.post(f"{V}/members", json={"full_name": "B", "birth_year": 1980, "unit": str(h1.unit)})
        assert above.status_code == 403, "a base node never writes for its district (D4)"
        for node in (b11, b21, h1, h2, b11, b21):
            await cluster.sync(node)

        everywhere = {"TU", "H1", "H2", "H1B1", "H2B1"}
        up_from_b11 = {"H1B1", "H1", "TU"}
        expected = [
            (DOCUMENT, doc["id"], everywhere),
            (ESSAY_TEMPLATE, tu_template["id"], everywhere),
            (REVIEW_OVERRIDE, override["id"], everywhere),
            (REVIEW_PLAN, plan["id"], everywhere),
            (
                ESSAY_TEMPLATE,
                h1_template["id"],
                {"H1", "H1B1", "TU"},
            ),  # a district template: its subtree (and relays up)
            (MEMBER, member["id"], {"H1B1", "H1"}),  # personal data: the parent and no higher (ceiling 1)
            (ESSAY_GRADE, essay["id"], up_from_b11),
            (STUDY_SESSION, session["id"], up_from_b11),
            (PROPAGANDA, propaganda["id"], up_from_b11),
            (REVIEW_REPORT, report["id"], up_from_b11),
            (REVIEW_PROJECT, project["id"], up_from_b11),
        ]
        for rt, record_id, holders in expected:
            for name in everywhere:
                held = {str(i) for i in await cluster.ids(cluster.instances[name], rt)}
                assert (record_id in held) == (name in holders), f"{rt.name} at {name}"

        rewrites = (await tu_api.get(f"{V}/essays/rewrites")).json()
        assert [r["member"] for r in rewrites] == [member["id"]], "the province sees open rewrites (D13, D26)"
        summary = (await tu_api.get(f"{V}/essays/summary", params={"document": doc["id"]})).json()
        assert summary["roster_held"] is False, "no roster at the province"
        assert summary["obliged"]["wrote"] == 1
        at_base = (await b11_api.get(f"{V}/calendar/documents/{doc['id']}", params={"today": "2024-03-05"})).json()
        assert at_base["milestones"][1]["due"] == "2025-06-01", "the province's override reached the base (D17)"
        assert at_base["milestones"][0]["status"] == "done"
    finally:
        for client in (tu_api, h1_api, b11_api):
            await client.aclose()
