"""D19, D20 through the API, on SQLite and PostgreSQL: an issued review plan is corrected by the committee that issued
it; its kind and issuing committee stay, and what a revision may not change is refused in words."""

from __future__ import annotations

from tests.api.refusals import check_refusal
from tests.domain_harness import Api, Maker

V = "/api/v1"


async def test_d19_d20_a_plan_is_corrected_and_its_lateness_and_reviews_follow(api: Api) -> None:
    mk = Maker(api)
    doc = await mk.doc(signed_on="2021-03-01")
    plan = await mk.plan("TU")
    url = f"{V}/review-plans/{plan['id']}"
    assert (plan["rev"], plan["late"]) == (1, [])
    renumbered = await api.ok("PATCH", url, json={"rev": 1, "number": "Số: 19 - KH/TU"})
    assert (renumbered["number"], renumbered["rev"]) == ("19-KH/TU", 2), "D5a: the number as normalised"
    assert renumbered["items"] == plan["items"]
    late = await api.ok("PATCH", url, json={"issued_on": "2024-02-01"})
    assert [flag[:3] for flag in late["late"]] == ["D19", "D20"], "lateness follows the corrected date of issue"
    # D19: the year plan for 2026 lists the review due in 2026 (the final one), as the calendar gives it.
    moved = await api.ok("PATCH", url, json={"year": 2026, "issued_on": "2025-12-01"})
    assert (moved["period_start"], moved["period_end"]) == ("2026-01-01", "2026-12-31")
    assert moved["items"] == [{"document": doc["id"], "kind": "final", "due": "2026-03-01"}]
    assert moved["late"] == []
    assert (await api.ok("GET", url))["rev"] == 4
    stale = await api.call("PATCH", url, json={"rev": 2, "number": "20-KH/TU"})
    check_refusal(stale, 409, "rev", "rev")
    assert (await api.ok("GET", url))["number"] == "19-KH/TU", "a refused revision changes nothing"


async def test_d19_a_revision_keeps_the_kind_and_the_committee_and_says_why_not(api: Api) -> None:
    mk = Maker(api)
    doc = await mk.doc(signed_on="2021-03-01")
    plan = await mk.plan("TU")
    url = f"{V}/review-plans/{plan['id']}"
    kind = check_refusal(await api.call("PATCH", url, json={"plan_kind": "term"}), 422, "plan_kind", "D19")
    assert "kế hoạch mới" in kind["message"]
    unit = check_refusal(await api.call("PATCH", url, json={"unit": str(api.id("H1"))}), 422, "unit", "D19")
    assert "đơn vị ban hành" in unit["message"]
    item = {"document": doc["id"], "kind": "final", "due": "2026-03-01"}
    check_refusal(await api.call("PATCH", url, json={"items": [item]}), 422, "items", "D19")
    check_refusal(await api.call("PATCH", url, json={"period_start": "2024-03-01"}), 422, "year", "D19")
    check_refusal(await api.call("PATCH", url, json={"number": "KH 19"}), 422, "number", "D5a")
    check_refusal(await api.call("PATCH", url, json={"year": 1800}), 422, "year", "D19")
    # Same rules as issuing: the committee's decision (admin) at the issuing level; a level below sees it only.
    assert (await api.call("PATCH", url, ("TU", "editor"), json={"number": "21-KH/TU"})).status_code == 403
    assert (await api.call("PATCH", url, ("H1", "admin"), json={"number": "21-KH/TU"})).status_code == 403
    assert (await api.ok("GET", url, ("H1", "viewer")))["rev"] == 1, "the plan travelled down, unchanged"
    # An addition corrects the reviews it adds; their due dates are the calendar's, not the body's.
    added = await api.ok(
        "POST",
        f"{V}/review-plans",
        json={"plan_kind": "addition", "number": "3-KH/TU", "issued_on": "2024-05-01", "items": [item]},
    )
    fixed = await api.ok(
        "PATCH",
        f"{V}/review-plans/{added['id']}",
        json={"items": [{**item, "kind": "preliminary", "due": "2000-01-01"}]},
    )
    assert fixed["items"] == [{"document": doc["id"], "kind": "preliminary", "due": "2024-03-01"}]
    check_refusal(await api.call("PATCH", f"{V}/review-plans/{added['id']}", json={"items": []}), 422, "items", "D19")
    # A term plan: a new term start gives five full years from it unless an end is given.
    term = await api.ok(
        "POST",
        f"{V}/review-plans",
        json={"plan_kind": "term", "number": "1-KH/TU", "issued_on": "2020-12-01", "period_start": "2020-10-01"},
    )
    shifted = await api.ok("PATCH", f"{V}/review-plans/{term['id']}", json={"period_start": "2021-10-01"})
    assert (shifted["period_start"], shifted["period_end"]) == ("2021-10-01", "2026-10-01")
    assert {i["kind"] for i in shifted["items"]} == {"preliminary", "final"}
    check_refusal(
        await api.call("PATCH", f"{V}/review-plans/{term['id']}", json={"period_end": "2020-01-01"}),
        422,
        "period_end",
        "D19",
    )
