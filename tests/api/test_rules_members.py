"""D11-D13 and D27 through the API, on SQLite and PostgreSQL: rosters, essays and grades, accounts, bad input."""

from __future__ import annotations

from shared.essays.records import ESSAY_GRADE
from shared.members.records import MEMBER
from tests.api.refusals import check_refusal, row_count
from tests.domain_harness import PASSWORD, Api, Maker, account, xlsx

V = "/api/v1"


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
        check_refusal(await api.call("POST", f"{V}/members", json=body), 422, field, "D12")
    ok = await api.ok(
        "POST",
        f"{V}/members",
        json={"full_name": "Hồ Thị E", "birth_year": 1950, "obligation": "over_60", "unit": unit},
    )
    assert (ok["obliged"], ok["obligation_vi"]) == (False, "Trên 60 tuổi")

    before = await row_count(api, MEMBER.table)
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
    body = check_refusal(refused, 422, "file", "import")
    assert [(r["row"], r["field"]) for r in body["rows"]] == [
        (3, "full_name"),
        (4, "birth_year"),
        (5, "obligation"),
        (6, "full_name"),
        (7, "obligation"),
    ]
    assert await row_count(api, MEMBER.table) == before, "nothing written when any row is bad"
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
    assert check_refusal(not_xlsx, 422, "file", "import")["code"] == "import.not_xlsx"


async def test_d11_templates_travel_down_from_their_summoning_level_only(api: Api) -> None:
    mk = Maker(api)
    doc = await mk.doc()
    province = await mk.template("TU", doc)
    district = await mk.template("H1", doc)
    for who, expected in [("H1B1", {province["id"], district["id"]}), ("H2B1", {province["id"]})]:
        seen = await api.ok("GET", f"{V}/essay-templates", (who, "viewer"))
        assert {t["id"] for t in seen} == expected, who
    body = {"document": doc["id"], "title": "Mẫu", "questions": ["Câu hỏi"], "issued_on": "2021-03-10"}
    check_refusal(await api.call("POST", f"{V}/essay-templates", json=body), 409, "document", "D11")
    no_questions = {**body, "questions": [" "], "unit": str(api.id("H2"))}
    check_refusal(await api.call("POST", f"{V}/essay-templates", json=no_questions), 422, "questions", "D11")


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
        assert check_refusal(await api.call("POST", f"{V}/essays", json=body), 422, "score", "D13")["code"] == code
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
    check_refusal(third, 409, "member", "D13")
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
    check_refusal(not_above, 422, "member_unit", "D13")
    corrected = await api.ok("PATCH", f"{V}/essays/{second['id']}", json={"score": "9,5", "rev": 1})
    assert (corrected["band"], corrected["score_vi"], corrected["rev"]) == ("Tốt", "9,5", 2)
    stale = await api.call("PATCH", f"{V}/essays/{second['id']}", json={"score": "9", "rev": 1})
    check_refusal(stale, 409, "rev", "rev")


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
    before = await row_count(api, ESSAY_GRADE.table)
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
    body = check_refusal(
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
    assert await row_count(api, ESSAY_GRADE.table) == before
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
    check_refusal(wrong, 401, "password", "auth")
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
    check_refusal(await api.call("POST", f"{V}/users", ("H1", "admin"), json=weak), 422, "password", "account")
    sibling = {**weak, "password": "mot-mat-khau-dai", "unit": str(api.id("H2"))}
    check_refusal(await api.call("POST", f"{V}/users", ("H1", "admin"), json=sibling), 403, None, "D4")  # type: ignore[arg-type]
    bad_role = {**weak, "password": "mot-mat-khau-dai", "role": "boss"}
    check_refusal(await api.call("POST", f"{V}/users", ("H1", "admin"), json=bad_role), 422, "role", "D27")
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
    check_refusal(paging, 422, "limit", "paging")
