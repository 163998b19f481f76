"""Each D-rule through the API, on SQLite and PostgreSQL: a table of inputs and what the API answers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from shared.essays.records import ESSAY_GRADE
from shared.members.records import MEMBER
from tests.domain_harness import PASSWORD, Api, Maker, account, xlsx

V = "/api/v1"


def _refused(response: Any, status: int, field: str, rule: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = dict(response.json())
    assert (body["field"], body["rule"]) == (field, rule), body
    assert body["message"]
    assert body["message_en"]
    assert body["message"] != body["message_en"]
    return body


async def _count(api: Api, table: Any) -> int:
    async with api.db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


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
        body = _refused(
            await api.call("POST", f"{V}/documents", json={**base, "number": written}), 422, "number", "D5a"
        )
        assert body["code"] == code
    again = await api.call("POST", f"{V}/documents", json={**base, "number": "15-NQ/TU"})
    assert _refused(again, 409, "number", "D5a")["code"] == "duplicate_number"
    next_term = await api.call("POST", f"{V}/documents", json={**base, "number": "15-NQ/TU", "term": "2025-2030"})
    assert next_term.status_code == 201, "numbering restarts each term: the key includes the term (D5a)"
    _refused(
        await api.call("POST", f"{V}/documents", json={**base, "number": "1-NQ/TU", "title": " "}), 422, "title", "D5"
    )
    no_lead = {**base, "number": "2-NQ/TU", "lead_agency": ""}
    _refused(await api.call("POST", f"{V}/documents", json=no_lead), 422, "lead_agency", "D5")
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
    _refused(out_of_subtree, 422, "applies_to", "D6")
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
    _refused(both, 422, "replaces", "D7")


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
    _refused(await api.call("POST", f"{V}/review-overrides", json={**bad, "reason": " "}), 422, "reason", "D17")
    no_order = {**bad, "reason": "x", "due": "2027-01-01"}
    _refused(await api.call("POST", f"{V}/review-overrides", json=no_order), 422, "due", "D17")
    wrong_number = {**bad, "reason": "x", "instructing_document": "CV 1"}
    _refused(await api.call("POST", f"{V}/review-overrides", json=wrong_number), 422, "instructing_document", "D5a")
    from_below = await api.call("POST", f"{V}/review-overrides", ("H1", "admin"), json={**bad, "reason": "x"})
    _refused(from_below, 422, "document", "D17")
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
    _refused(await api.call("POST", f"{V}/review-plans", json=unknown), 422, "items[0].document", "D19")
    _refused(await api.call("POST", f"{V}/review-plans", json={**unknown, "plan_kind": "x"}), 422, "plan_kind", "D19")


async def test_d21_reviews_climb_from_the_base_and_projects_are_proposed(api: Api) -> None:
    mk = Maker(api)
    doc = await mk.doc(signed_on="2021-03-01")
    body = {"document": doc["id"], "kind": "preliminary", "held_on": "2024-02-25"}
    too_early = await api.call("POST", f"{V}/review-reports", json={**body, "unit": str(api.id("H1"))})
    refusal = _refused(too_early, 409, "waived_reason", "D21")
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
    _refused(early, 422, "approved_on", "D21")
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
        _refused(await api.call("POST", f"{V}/study-sessions", json={**good, **change}), 422, field, "D8")
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
        _refused(await api.call("POST", f"{V}/propaganda", json={**base, **change}), 422, field, "D9")
    await api.ok("POST", f"{V}/propaganda", json={**base, "unit": str(api.id("H1B1"))})
    await api.ok("POST", f"{V}/propaganda", json={**base, "unit": str(api.id("H1")), "count": 2, "reached": 80})
    await api.ok("POST", f"{V}/propaganda", json={**base, "unit": str(api.id("H2")), "channel": "it"})
    h1 = {c["channel"]: c for c in await api.ok("GET", f"{V}/propaganda/summary", ("H1", "viewer"))}
    assert (h1["oral"]["activities"], h1["oral"]["count"], h1["oral"]["reached"]) == (2, 5, 200)
    assert h1["it"]["count"] == 0, "a sibling's figures are not summed (D4)"
    province = {c["channel"]: c for c in await api.ok("GET", f"{V}/propaganda/summary")}
    assert province["it"]["count"] == 3
    assert set(province) == {"cultural", "loudspeaker", "oral", "it"}


async def test_d12_roster_categories_and_an_import_refused_whole(api: Api) -> None:
    unit = str(api.id("H1B1"))
    table = [
        ({"obligation": "over_60", "birth_year": 1990}, "obligation"),
        ({"obligation": "rural_no_post", "post": "Bí thư", "rural_cell": True}, "obligation"),
        ({"obligation": "rural_no_post"}, "obligation"),
        ({"obligation": "lazy"}, "obligation"),
        ({"birth_year": 1850}, "birth_year"),
        ({"full_name": " "}, "full_name"),
    ]
    for change, field in table:
        body = {"full_name": "Phạm Văn D", "birth_year": 1980, "unit": unit, **change}
        _refused(await api.call("POST", f"{V}/members", json=body), 422, field, "D12")
    ok = await api.ok(
        "POST",
        f"{V}/members",
        json={"full_name": "Hồ Thị E", "birth_year": 1950, "obligation": "over_60", "unit": unit},
    )
    assert (ok["obliged"], ok["obligation_vi"]) == (False, "Trên 60 tuổi")

    before = await _count(api, MEMBER.table)
    bad = xlsx(
        [
            ["Họ và tên", "Năm sinh", "Diện", "Chức vụ"],
            ["Nguyễn Văn A", 1980, "", ""],
            ["", 1981, "", ""],
            ["Trần B", "năm", "", ""],
            ["Lê C", 1990, "Trên 60 tuổi", ""],
            ["Nguyễn Văn A", 1980, "", ""],
            ["Đỗ D", 1985, "không rõ", ""],
        ]
    )
    refused = await api.call("POST", f"{V}/members/import", files={"data": ("ds.xlsx", bad)}, params={"unit": unit})
    body = _refused(refused, 422, "file", "import")
    assert [(r["row"], r["field"]) for r in body["rows"]] == [
        (3, "full_name"),
        (4, "birth_year"),
        (5, "obligation"),
        (6, "full_name"),
        (7, "obligation"),
    ]
    assert await _count(api, MEMBER.table) == before, "nothing written when any row is bad"
    good = xlsx(
        [
            ["Họ và tên", "Năm sinh", "Diện", "Chức vụ", "Chi bộ nông thôn"],
            ["Nguyễn Văn A", 1980, "", "", ""],
            ["Vũ Thị G", 1958, "over_60", "", ""],
            ["Mai H", 1975, "Không giữ chức vụ, thuộc chi bộ nông thôn", "", "x"],
        ]
    )
    result = await api.ok("POST", f"{V}/members/import", files={"data": ("ds.xlsx", good)}, params={"unit": unit})
    assert (result["created"], result["updated"]) == (3, 0)
    again = xlsx([["Họ và tên", "Năm sinh", "Diện"], ["Nguyễn Văn A", 1980, "retired"], ["Vũ Thị G", 1958, "over_60"]])
    result = await api.ok("POST", f"{V}/members/import", files={"data": ("ds.xlsx", again)}, params={"unit": unit})
    assert (result["created"], result["updated"], result["unchanged"]) == (0, 1, 1)
    not_xlsx = await api.call(
        "POST", f"{V}/members/import", files={"data": ("ds.xlsx", b"PK nope")}, params={"unit": unit}
    )
    assert _refused(not_xlsx, 422, "file", "import")["code"] == "import.not_xlsx"


async def test_d11_templates_travel_down_from_their_summoning_level_only(api: Api) -> None:
    mk = Maker(api)
    doc = await mk.doc()
    province = await mk.template("TU", doc)
    district = await mk.template("H1", doc)
    for who, expected in [("H1B1", {province["id"], district["id"]}), ("H2B1", {province["id"]})]:
        seen = await api.ok("GET", f"{V}/essay-templates", (who, "viewer"))
        assert {t["id"] for t in seen} == expected, who
    body = {"document": doc["id"], "title": "Mẫu", "questions": ["Câu hỏi"], "issued_on": "2021-03-10"}
    _refused(await api.call("POST", f"{V}/essay-templates", json=body), 409, "document", "D11")
    no_questions = {**body, "questions": [" "], "unit": str(api.id("H2"))}
    _refused(await api.call("POST", f"{V}/essay-templates", json=no_questions), 422, "questions", "D11")


async def test_d13_scores_bands_and_the_rewrite_loop(api: Api) -> None:
    mk = Maker(api)
    doc = await mk.doc()
    bands = [
        ("9,0", "Tốt"),
        ("8,99", "Khá"),
        ("7", "Khá"),
        ("6,99", "Trung bình"),
        ("5.0", "Trung bình"),
        ("4,99", "Yếu"),
        ("10", "Tốt"),
        ("0", "Yếu"),
    ]
    for score, band in bands:
        essay = await mk.essay("H1", await mk.member("H1B1"), doc, score)
        assert essay["band"] == band, score
    member = await mk.member("H1B1")
    for score, code in [("10,5", "score.out_of_range"), ("8,555", "score.too_many_places"), ("tám", "score.malformed")]:
        body = {"member": member["id"], "document": doc["id"], "score": score, "graded_on": "2021-05-01"}
        assert _refused(await api.call("POST", f"{V}/essays", json=body), 422, "score", "D13")["code"] == code
    first = await mk.essay("H1", member, doc, "4,5")
    assert (first["attempt"], first["rewrite_open"]) == (1, True)
    rewrites = await api.ok("GET", f"{V}/essays/rewrites", params={"document": doc["id"]})
    assert member["id"] in {r["member"] for r in rewrites}
    second = await mk.essay("H1", member, doc, "6")
    assert (second["attempt"], second["band"]) == (2, "Trung bình"), "the latest attempt decides"
    rewrites = await api.ok("GET", f"{V}/essays/rewrites", params={"document": doc["id"]})
    assert member["id"] not in {r["member"] for r in rewrites}
    third = await api.call(
        "POST",
        f"{V}/essays",
        json={
            "member": member["id"],
            "document": doc["id"],
            "score": "9",
            "graded_on": "2021-06-01",
            "unit": str(api.id("H1")),
        },
    )
    _refused(third, 409, "member", "D13")
    not_above = await api.call(
        "POST",
        f"{V}/essays",
        json={
            "member": member["id"],
            "document": doc["id"],
            "score": "9",
            "graded_on": "2021-06-01",
            "unit": str(api.id("H1B2")),
        },
    )
    _refused(not_above, 422, "member_unit", "D13")
    corrected = await api.ok("PATCH", f"{V}/essays/{second['id']}", json={"score": "9,5", "rev": 1})
    assert (corrected["band"], corrected["score_vi"], corrected["rev"]) == ("Tốt", "9,5", 2)
    stale = await api.call("PATCH", f"{V}/essays/{second['id']}", json={"score": "9", "rev": 1})
    _refused(stale, 409, "rev", "rev")


async def test_d12_d13_participation_counts_the_obliged_and_encouraged_apart(api: Api) -> None:
    mk = Maker(api)
    doc = await mk.doc()
    obliged = [await mk.member("H1B1") for _ in range(3)]
    encouraged = [await mk.member("H1B1", obligation="retired") for _ in range(2)]
    await mk.essay("H1", obliged[0], doc, "8")
    await mk.essay("H1", obliged[1], doc, "3")
    await mk.essay("H1", encouraged[0], doc, "9,5")
    summary = await api.ok("GET", f"{V}/essays/summary", params={"document": doc["id"], "unit": str(api.id("H1"))})
    assert (summary["obliged"]["members"], summary["obliged"]["wrote"], summary["shortfall"]) == (3, 2, 1)
    assert (summary["encouraged"]["members"], summary["encouraged"]["wrote"]) == (2, 1), "no shortfall for them"
    assert summary["obliged"]["bands"]["Yếu"] == 1
    assert summary["obliged"]["rewrites_open"] == 1


async def test_d13_grades_import_refused_whole_with_a_row_report(api: Api) -> None:
    mk = Maker(api)
    doc = await mk.doc()
    a = await mk.member("H1B1", full_name="Nguyễn Văn A", birth_year=1980)
    b = await mk.member("H1B1", full_name="Trần Thị B", birth_year=1985)
    done = await mk.member("H1B1", full_name="Lê Văn C", birth_year=1970)
    await mk.essay("H1", done, doc, "8")
    before = await _count(api, ESSAY_GRADE.table)
    bad = xlsx(
        [
            ["Họ và tên", "Năm sinh", "Điểm", "Ngày chấm"],
            ["Nguyễn Văn A", 1980, 8.5, "01/05/2021"],
            ["Không Có", 1990, 7, "01/05/2021"],
            ["Trần Thị B", 1985, 11, "01/05/2021"],
            ["Lê Văn C", 1970, 9, "01/05/2021"],
            ["Nguyễn Văn A", 1980, 7, "31/02/2021"],
        ]
    )
    params = {"document": doc["id"], "unit": str(api.id("H1"))}
    body = _refused(
        await api.call("POST", f"{V}/essays/import", files={"data": ("d.xlsx", bad)}, params=params),
        422,
        "file",
        "import",
    )
    assert [(r["row"], r["field"]) for r in body["rows"]] == [
        (3, "full_name"),
        (4, "score"),
        (5, "score"),
        (6, "graded_on"),
    ]
    assert await _count(api, ESSAY_GRADE.table) == before
    good = xlsx(
        [
            ["Họ và tên", "Năm sinh", "Điểm", "Ngày chấm"],
            ["Nguyễn Văn A", 1980, 8.5, "01/05/2021"],
            ["Trần Thị B", 1985, "4,5", "02/05/2021"],
        ]
    )
    result = await api.ok("POST", f"{V}/essays/import", files={"data": ("d.xlsx", good)}, params=params)
    assert result["created"] == 2
    essays = {e["member"]: e for e in await api.ok("GET", f"{V}/essays", params={"document": doc["id"]})}
    assert essays[a["id"]]["score"] in ("8.5", "8.50")
    assert essays[a["id"]]["band"] == "Khá"
    assert essays[b["id"]]["rewrite_open"] is True


async def test_d27_sign_in_roles_and_accounts_per_unit(api: Api) -> None:
    await account(api.db, api.id("H1"), "editor", "thu.h1")
    wrong = await api.client.post(f"{V}/auth/login", json={"username": "thu.h1", "password": "sai-mat-khau"})
    _refused(wrong, 401, "password", "auth")
    login = await api.client.post(f"{V}/auth/login", json={"username": "thu.h1", "password": PASSWORD})
    assert login.status_code == 200
    assert login.json()["user"]["unit_code"] == "H1"
    token = login.json()["token"]
    me = await api.client.get(f"{V}/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["role"] == "editor"
    by_cookie = await api.client.get(f"{V}/auth/me")  # the client kept the session cookie
    assert by_cookie.status_code == 200
    await api.client.post(f"{V}/auth/logout", headers={"Authorization": f"Bearer {token}"})
    after = await api.client.get(f"{V}/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert after.status_code == 401
    weak = {"username": "x1", "password": "ngan", "role": "viewer"}
    _refused(await api.call("POST", f"{V}/users", ("H1", "admin"), json=weak), 422, "password", "account")
    sibling = {**weak, "password": "mot-mat-khau-dai", "unit": str(api.id("H2"))}
    _refused(await api.call("POST", f"{V}/users", ("H1", "admin"), json=sibling), 403, None, "D4")  # type: ignore[arg-type]
    bad_role = {**weak, "password": "mot-mat-khau-dai", "role": "boss"}
    _refused(await api.call("POST", f"{V}/users", ("H1", "admin"), json=bad_role), 422, "role", "D27")
    user = await api.ok("POST", f"{V}/users", ("H1", "admin"), json={**weak, "password": "mot-mat-khau-dai"})
    disabled = await api.ok("PATCH", f"{V}/users/{user['id']}", ("H1", "admin"), json={"active": False})
    assert disabled["active"] is False
    gone = await api.client.post(f"{V}/auth/login", json={"username": "x1", "password": "mot-mat-khau-dai"})
    assert gone.status_code == 401


async def test_bad_input_names_the_field_and_changes_nothing(api: Api) -> None:
    wrong_type = await api.call("POST", f"{V}/documents", json={"number": 15, "title": "T"})
    body = wrong_type.json()
    assert wrong_type.status_code == 400
    assert body["rule"] == "schema"
    assert body["message_en"]
    headers = {**api.as_("TU", "admin"), "content-type": "application/json"}
    not_json = await api.client.post(f"{V}/documents", content=b"{nope", headers=headers)
    assert not_json.status_code == 400
    bad_date = await api.call("GET", f"{V}/calendar", params={"today": "31/02/2024"})
    assert bad_date.status_code == 400
    assert bad_date.json()["field"] == "today"
    paging = await api.call("GET", f"{V}/essays", params={"limit": 5000})
    _refused(paging, 422, "limit", "paging")
