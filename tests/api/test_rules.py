"""D3, D5-D9, D16-D21 through the API, on SQLite and PostgreSQL: documents, the review calendar, study, propaganda."""

from __future__ import annotations

from tests.api.refusals import check_refusal
from tests.domain_harness import Api, Maker

V = "/api/v1"


async def test_d5_d5a_document_numbers_are_normalised_or_refused_with_the_rule(api: Api) -> None:
    base = {"title": "Về công tác", "signed_on": "2021-03-01", "lead_agency": "Ban Tuyên giáo"}
    accepted = [
        ("Số: 15 - NQ/TU", "15-NQ/TU", "PROVINCE"),
        ("5-ct/tu", "05-CT/TU", "PROVINCE"),
        ("45-KL/TW", "45-KL/TW", "CENTRAL"),
        ("7-NQ/\u00d0U", "07-NQ/ĐU", "PROVINCE"),
    ]
    for written, canonical, level in accepted:
        doc = await api.ok("POST", f"{V}/documents", json={**base, "number": written})
        assert (doc["number"], doc["level"]) == (canonical, level)
    refused = [
        ("30/2020/NĐ-CP", "docnumber.state_document"),
        ("15-XX/TU", "docnumber.unknown_type"),
        ("", "docnumber.empty"),
        ("NQ 15", "docnumber.malformed"),
    ]
    for written, code in refused:
        body = check_refusal(
            await api.call("POST", f"{V}/documents", json={**base, "number": written}), 422, "number", "D5a"
        )
        assert body["code"] == code
    again = await api.call("POST", f"{V}/documents", json={**base, "number": "15-NQ/TU"})
    assert check_refusal(again, 409, "number", "D5a")["code"] == "duplicate_number"
    next_term = await api.call("POST", f"{V}/documents", json={**base, "number": "15-NQ/TU", "term": "2025-2030"})
    assert next_term.status_code == 201, "numbering restarts each term: the key includes the term (D5a)"
    check_refusal(
        await api.call("POST", f"{V}/documents", json={**base, "number": "1-NQ/TU", "title": " "}), 422, "title", "D5"
    )
    no_lead = {**base, "number": "2-NQ/TU", "lead_agency": ""}
    check_refusal(await api.call("POST", f"{V}/documents", json=no_lead), 422, "lead_agency", "D5")
    lower = await Maker(api).doc("H1", number="3-NQ/HU")
    assert lower["level"] == "LOWER", "a district's document follows the lower-level row (D16 assumption)"


async def test_d6_a_document_applies_down_its_subtree_and_reaches_nobody_else(api: Api) -> None:
    mk = Maker(api)
    out_of_subtree = await api.call(
        "POST",
        f"{V}/documents",
        ("H1", "editor"),
        json={
            "number": "1-NQ/HU",
            "title": "T",
            "signed_on": "2021-01-01",
            "lead_agency": "BTG",
            "applies_to": [str(api.id("H2B1"))],
        },
    )
    check_refusal(out_of_subtree, 422, "applies_to", "D6")
    doc = await mk.doc("H1", applies_to=[str(api.id("H1B1"))])
    seen_by_base = await api.ok("GET", f"{V}/documents", ("H1B1", "viewer"))
    seen_by_sibling = await api.ok("GET", f"{V}/documents", ("H2B1", "viewer"))
    assert doc["id"] in {d["id"] for d in seen_by_base}
    assert doc["id"] not in {d["id"] for d in seen_by_sibling}, "never a sibling's (D4)"


async def test_d7_lineage_continues_or_replaces_but_not_both(api: Api) -> None:
    mk = Maker(api)
    first = await mk.doc()
    second = await mk.doc(continues=first["id"])
    third = await mk.doc(replaces=second["id"])
    chain = await api.ok("GET", f"{V}/documents/{second['id']}/lineage")
    assert [d["id"] for d in chain] == [first["id"], second["id"], third["id"]]
    both = await api.call(
        "POST",
        f"{V}/documents",
        json={
            "number": "99-NQ/TU",
            "title": "T",
            "signed_on": "2022-01-01",
            "lead_agency": "BTG",
            "continues": first["id"],
            "replaces": second["id"],
        },
    )
    check_refusal(both, 422, "replaces", "D7")


async def test_d16_d17_d18_d20_milestones_overrides_statuses_and_cut_off(api: Api) -> None:
    mk = Maker(api)
    provincial = await mk.doc(signed_on="2021-03-01")
    central = await mk.doc(number="3-NQ/TW", signed_on="2020-02-29")
    district = await mk.doc("H1", number="4-NQ/HU", signed_on="2021-06-15")
    expected = [
        (provincial, "2024-03-01", "2026-03-01"),
        (central, "2025-02-28", "2030-02-28"),
        (district, "2024-06-15", "2026-06-15"),
    ]
    for doc, preliminary, final in expected:
        cal = await api.ok("GET", f"{V}/calendar/documents/{doc['id']}", params={"today": "2022-01-01"})
        assert [(m["kind"], m["due"]) for m in cal["milestones"]] == [("preliminary", preliminary), ("final", final)]
        assert all(m["cut_off"] == m["due"] for m in cal["milestones"]), "D20: figures count to the due date"
    cal = await api.ok("GET", f"{V}/calendar/documents/{provincial['id']}", params={"today": "2022-01-01"})
    assert cal["annual_evaluations"] == ["2021-12-31", "2022-12-31", "2023-12-31", "2024-12-31", "2025-12-31"]
    assert cal["milestones"][0]["plan_deadline"] == "2024-01-01", "D20: the plan 2 months before"
    statuses = [
        ("2023-06-01", "upcoming"),
        ("2023-12-15", "plan_due"),
        ("2024-03-01", "plan_due"),
        ("2024-03-02", "overdue"),
    ]
    for today, status in statuses:
        cal = await api.ok("GET", f"{V}/calendar/documents/{provincial['id']}", params={"today": today})
        assert cal["milestones"][0]["status"] == status, today
    await mk.report("TU", provincial, held_on="2024-03-01")
    cal = await api.ok("GET", f"{V}/calendar/documents/{provincial['id']}", params={"today": "2024-04-01"})
    assert cal["milestones"][0]["status"] == "done"

    moved = await mk.override("TU", provincial, "final")
    assert moved["instructing_document"] == "12-CV/TU"
    cal = await api.ok("GET", f"{V}/calendar/documents/{provincial['id']}", params={"today": "2022-01-01"})
    final = cal["milestones"][1]
    assert (final["due"], final["scheduled_due"], final["moved"]) == ("2024-06-01", "2026-03-01", True)
    bad = {"document": provincial["id"], "kind": "preliminary", "due": "2024-01-01", "instructing_document": "1-CV/TU"}
    check_refusal(await api.call("POST", f"{V}/review-overrides", json={**bad, "reason": " "}), 422, "reason", "D17")
    no_order = {**bad, "reason": "x", "due": "2027-01-01"}
    check_refusal(await api.call("POST", f"{V}/review-overrides", json=no_order), 422, "due", "D17")
    wrong_number = {**bad, "reason": "x", "instructing_document": "CV 1"}
    check_refusal(
        await api.call("POST", f"{V}/review-overrides", json=wrong_number), 422, "instructing_document", "D5a"
    )
    from_below = await api.call("POST", f"{V}/review-overrides", ("H1", "admin"), json={**bad, "reason": "x"})
    check_refusal(from_below, 422, "document", "D17")
    editor = await api.call("POST", f"{V}/review-overrides", ("TU", "editor"), json={**bad, "reason": "x"})
    assert editor.status_code == 403, "moving a review is the committee's decision (D17, D27)"


async def test_d19_d20_term_year_and_added_plans_flag_late_issue(api: Api) -> None:
    mk = Maker(api)
    doc = await mk.doc(signed_on="2021-03-01")
    term = await api.ok("GET", f"{V}/calendar/term-plan", params={"start": "2020-10-01", "end": "2025-09-30"})
    assert [(m["document"], m["kind"]) for m in term] == [(doc["id"], "preliminary")]
    year = await api.ok("GET", f"{V}/calendar/year-plan", params={"year": 2026})
    assert [(m["document"], m["kind"]) for m in year] == [(doc["id"], "final")]
    on_time = await mk.plan("TU")
    assert on_time["items"] == [{"document": doc["id"], "kind": "preliminary", "due": "2024-03-01"}]
    assert on_time["late"] == []
    late = await api.ok(
        "POST",
        f"{V}/review-plans",
        json={"plan_kind": "year", "number": "9-KH/TU", "issued_on": "2024-02-01", "year": 2024},
    )
    assert [flag[:3] for flag in late["late"]] == ["D19", "D20"]
    term_plan = await api.ok(
        "POST",
        f"{V}/review-plans",
        json={"plan_kind": "term", "number": "1-KH/TU", "issued_on": "2020-12-01", "period_start": "2020-10-01"},
    )
    assert {i["kind"] for i in term_plan["items"]} == {"preliminary"}
    assert term_plan["late"] == []
    unknown = {
        "plan_kind": "addition",
        "number": "2-KH/TU",
        "issued_on": "2024-05-01",
        "items": [{"document": "01890000-0000-7000-8000-000000000000", "kind": "final", "due": "2024-01-01"}],
    }
    check_refusal(await api.call("POST", f"{V}/review-plans", json=unknown), 422, "items[0].document", "D19")
    check_refusal(
        await api.call("POST", f"{V}/review-plans", json={**unknown, "plan_kind": "x"}), 422, "plan_kind", "D19"
    )


async def test_d21_reviews_climb_from_the_base_and_projects_are_proposed(api: Api) -> None:
    mk = Maker(api)
    doc = await mk.doc(signed_on="2021-03-01")
    body = {"document": doc["id"], "kind": "preliminary", "held_on": "2024-02-25"}
    too_early = await api.call("POST", f"{V}/review-reports", json={**body, "unit": str(api.id("H1"))})
    refusal = check_refusal(too_early, 409, "waived_reason", "D21")
    assert "H1B1" in refusal["message"]
    assert "H1B2" in refusal["message"]
    for code in ("H1B1", "H1B2", "H1", "H2B1", "H2"):
        await api.ok("POST", f"{V}/review-reports", json={**body, "unit": str(api.id(code))})
    done = await api.ok("POST", f"{V}/review-reports", json={**body, "held_on": "2024-03-01"})
    assert done["cut_off"] == "2024-03-01", "armed forces review on their own line (D3), so the province may close"
    order = await api.ok("GET", f"{V}/calendar/bottom-up", params={"document": doc["id"], "kind": "preliminary"})
    depths = [u["depth"] for u in order]
    assert depths == sorted(depths, reverse=True)
    assert order[-1]["code"] == "TU"
    assert all(u["held_on"] for u in order)
    assert "QS" not in {u["code"] for u in order}
    assert order[0]["due"] < order[-1]["due"], "base units are due before the province"
    project = await mk.project("TU", doc)
    early = await api.call("PATCH", f"{V}/review-projects/{project['id']}", json={"approved_on": "2024-01-01"})
    check_refusal(early, 422, "approved_on", "D21")
    approved = await api.ok("PATCH", f"{V}/review-projects/{project['id']}", json={"approved_on": "2025-02-01"})
    assert approved["rev"] == 2


async def test_d8_d3_study_sessions_and_who_is_bound_to_hold_one(api: Api) -> None:
    mk = Maker(api)
    doc = await mk.doc(signed_on="2021-03-01")
    good = {
        "title": "Hội nghị",
        "documents": [doc["id"]],
        "held_on": "2021-04-01",
        "form": "mixed",
        "invited": 50,
        "attended": 48,
        "unit": str(api.id("H1B1")),
    }
    table = [
        ({"attended": 51}, "attended"),
        ({"invited": -1}, "invited"),
        ({"form": "radio"}, "form"),
        ({"documents": []}, "documents"),
        ({"held_on": "2021-02-01"}, "held_on"),
        ({"title": ""}, "title"),
    ]
    for change, field in table:
        check_refusal(await api.call("POST", f"{V}/study-sessions", json={**good, **change}), 422, field, "D8")
    await api.ok("POST", f"{V}/study-sessions", json=good)
    await api.ok("POST", f"{V}/study-sessions", json={**good, "unit": str(api.id("QSB1")), "held_on": "2021-09-01"})
    cov = await api.ok("GET", f"{V}/study-sessions/coverage", params={"document": doc["id"]})
    rows = {r["code"]: r for r in cov["units"]}
    assert rows["H1B1"]["sessions"] == 1
    assert rows["H1B1"]["attended"] == 48
    assert not rows["QS"]["bound"], "armed forces plan their own study (D3)"
    assert not rows["QSB1"]["bound"]
    assert (cov["armed_forces_units"], cov["armed_forces_held"]) == (2, 1)
    assert cov["bound_held"] == 1
    assert cov["bound_units"] == len(rows) - 2


async def test_d9_propaganda_by_channel_with_count_and_reach(api: Api) -> None:
    base = {"channel": "oral", "period_start": "2021-01-01", "period_end": "2021-03-31", "count": 3, "reached": 120}
    for change, field in [
        ({"channel": "tv"}, "channel"),
        ({"count": -1}, "count"),
        ({"reached": -5}, "reached"),
        ({"period_end": "2020-12-31"}, "period_end"),
    ]:
        check_refusal(await api.call("POST", f"{V}/propaganda", json={**base, **change}), 422, field, "D9")
    await api.ok("POST", f"{V}/propaganda", json={**base, "unit": str(api.id("H1B1"))})
    await api.ok("POST", f"{V}/propaganda", json={**base, "unit": str(api.id("H1")), "count": 2, "reached": 80})
    await api.ok("POST", f"{V}/propaganda", json={**base, "unit": str(api.id("H2")), "channel": "it"})
    h1 = {c["channel"]: c for c in await api.ok("GET", f"{V}/propaganda/summary", ("H1", "viewer"))}
    assert (h1["oral"]["activities"], h1["oral"]["count"], h1["oral"]["reached"]) == (2, 5, 200)
    assert h1["it"]["count"] == 0, "a sibling's figures are not summed (D4)"
    province = {c["channel"]: c for c in await api.ok("GET", f"{V}/propaganda/summary")}
    assert province["it"]["count"] == 3
    assert set(province) == {"cultural", "loudspeaker", "oral", "it"}
