"""Consolidated figures through the API (D20, D26) and roster counts kept current by every roster write (D12)."""

from __future__ import annotations

import io
import uuid
from typing import Any
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from shared.members.rosters import ROSTER_COUNT, roster_count_id
from tests.domain_harness import Api, Maker, xlsx

V = "/api/v1/consolidations"


@pytest.fixture
async def seeded(api: Api) -> dict[str, Any]:
    """A provincial resolution; rosters at H1B1 (two obliged, one over 60) and H2B1; grades, one Yếu; H1's study."""
    mk = Maker(api)
    doc = await mk.doc("TU", number="15-NQ/TU", title="Về phát triển kinh tế số", signed_on="2021-03-01")
    a = await mk.member("H1B1", full_name="Nguyễn Văn An")
    b = await mk.member("H1B1", full_name="Trần Thị Bình")
    await mk.member("H1B1", full_name="Lê Văn Cụ", birth_year=1950, obligation="over_60")
    z = await mk.member("H2B1", full_name="Phạm Thị Riêng")
    await mk.essay("H1B1", a, doc, "8,5")
    await mk.essay("H1B1", b, doc, "4,5")
    await mk.essay("H2B1", z, doc, "9")
    await mk.session("H1", doc)
    await mk.propaganda("H1")
    await api.ok(
        "POST",
        "/api/v1/propaganda",
        json={
            "channel": "oral",
            "period_start": "2021-04-01",
            "period_end": "2021-04-30",
            "count": 3,
            "reached": 240,
            "document": doc["id"],
            "unit": str(api.id("H2B1")),
        },
    )
    return doc


def _params(doc: dict[str, Any], **extra: str) -> dict[str, str]:
    return {"document": doc["id"], "kind": "preliminary", **extra}


async def test_d20_d26_the_province_gets_whole_own_and_each_district_with_rates_as_numbers(
    api: Api, seeded: dict[str, Any]
) -> None:
    c = await api.ok("GET", V, params=_params(seeded))
    assert (c["document_number"], c["kind"], c["kind_vi"]) == ("15-NQ/TU", "preliminary", "Sơ kết")
    assert c["due"] == c["cut_off"] == "2024-03-01", "D16, D20: 3 full years after signing; figures up to the due date"
    assert c["reconciles"] is True
    essays = c["figures"]["essays"]
    assert (essays["obliged"]["members"], essays["obliged"]["wrote"]) == (3, 3)
    assert essays["obliged"]["participation_percent"] == 100.0
    assert (essays["encouraged"]["members"], essays["encouraged"]["wrote"]) == (1, 0)
    assert essays["encouraged"]["participation_percent"] == 0.0
    assert essays["shortfall"] == 0, "D12: the member over 60 who wrote nothing is no shortfall"
    assert essays["bands"] == {"Tốt": 1, "Khá": 1, "Trung bình": 0, "Yếu": 1}
    assert essays["rewrites_open"] == 1
    rows = {r["unit"]["code"]: r["figures"] for r in c["children"]}
    assert set(rows) == {"H1", "H2", "QS"}
    h1 = rows["H1"]
    assert h1["essays"]["obliged"]["participation_percent"] == 100.0
    assert (h1["study"]["sessions"], h1["study"]["attended"], h1["study"]["attendance_percent"]) == (1, 95, 95.0)
    channels = {ch["channel"]: ch for ch in h1["propaganda"]["channels"]}
    assert [ch["channel"] for ch in h1["propaganda"]["channels"]] == ["cultural", "loudspeaker", "oral", "it"]
    assert channels["loudspeaker"]["activities"] == 0, "propaganda not tied to the document is not counted"
    assert rows["H2"]["propaganda"]["channels"][2] == {
        "channel": "oral",
        "label_vi": "Tuyên truyền miệng (báo cáo viên, tuyên truyền viên)",
        "activities": 3,
        "reached": 240,
    }
    reports = c["figures"]["reports"]
    assert reports["expected"] == reports["overdue"] > 0, "no review held, every report past due (D25b)"
    assert reports["completeness_percent"] == 0.0
    assert {i["status"] for i in c["late"]} == {"overdue"}
    assert {i["unit"]["code"] for i in c["late"]} >= {"TU", "H1", "H2", "H1B1", "H2B1"}


async def test_d20_a_cut_off_counts_records_up_to_that_day_and_a_district_sees_its_subtree(
    api: Api, seeded: dict[str, Any]
) -> None:
    early = await api.ok("GET", V, params=_params(seeded, cut_off="2021-04-15"))
    assert early["cut_off"] == "2021-04-15"
    assert early["figures"]["essays"]["obliged"]["wrote"] == 0, "grades of 01/05/2021 come after the cut-off"
    assert early["figures"]["study"]["sessions"] == 1
    h1 = await api.ok("GET", V, ("H1", "viewer"), params=_params(seeded))
    assert [r["unit"]["code"] for r in h1["children"]] == ["H1B1", "H1B2"]
    assert h1["figures"]["essays"]["obliged"]["members"] == 2
    assert "Riêng" not in str(h1), "D4: nothing of a sibling"
    assert str(api.id("H2B1")) not in str(h1)
    province = await api.ok("GET", V, params=_params(seeded))
    row = next(r for r in province["children"] if r["unit"]["code"] == "H1")
    assert row["figures"] == h1["figures"], "D26: a district's own consolidation is its row at the province"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kind": "annual"}, "kind"),
        ({"cut_off": "31/12/2024"}, "cut_off"),
        ({"document": "15-NQ/TU"}, "document"),
        ({"document": str(uuid.uuid4())}, "document"),
    ],
)
async def test_a_bad_parameter_is_a_400_naming_the_field(
    api: Api, seeded: dict[str, Any], params: dict[str, str], field: str
) -> None:
    for path in ("", "/export.xlsx", "/export.docx"):
        response = await api.call("GET", V + path, params={**_params(seeded), **params})
        assert response.status_code == 400, (path, response.text)
        assert response.json()["field"] == field
        assert response.json()["message"]


async def test_d4_a_sibling_unit_or_its_document_is_refused(api: Api, seeded: dict[str, Any]) -> None:
    h2_doc = await Maker(api).doc("H2", number="9-NQ/HU", title="Về du lịch H2")
    response = await api.call("GET", V, ("H1", "viewer"), params=_params(seeded, unit=str(api.id("H2"))))
    assert (response.status_code, response.json()["rule"]) == (403, "D4")
    response = await api.call("GET", V, ("H1", "viewer"), params=_params(h2_doc))
    assert (response.status_code, response.json()["field"]) == (400, "document")
    assert "du lịch" not in response.text


async def test_d26_exports_stream_the_files_under_a_vietnamese_name(api: Api, seeded: dict[str, Any]) -> None:
    from docx import Document
    from openpyxl import load_workbook

    for ext, media in (("xlsx", "spreadsheetml"), ("docx", "wordprocessingml")):
        response = await api.call("GET", f"{V}/export.{ext}", ("H1", "viewer"), params=_params(seeded))
        assert response.status_code == 200, response.text
        assert media in response.headers["content-type"]
        disposition = response.headers["content-disposition"]
        assert disposition.startswith("attachment;")
        assert 'filename="Tong hop so ket 15-NQ-TU - H1.' in disposition
        encoded = disposition.split("filename*=UTF-8''", 1)[1]
        assert unquote(encoded) == f"Tổng hợp sơ kết 15-NQ-TU - H1.{ext}"
        if ext == "xlsx":
            book = load_workbook(io.BytesIO(response.content))
            assert "Tổng hợp" in book.sheetnames
        else:
            text = "\n".join(p.text for p in Document(io.BytesIO(response.content)).paragraphs)
            assert "15-NQ/TU" in text


async def _count(api: Api, unit: str) -> tuple[int, int, int, Any, Any]:
    rc = ROSTER_COUNT.table
    async with api.db.read() as conn:
        row = (
            await conn.execute(
                select(rc.c.rev, rc.c.obliged, rc.c.encouraged, rc.c.seq, rc.c.origin).where(
                    rc.c.id == roster_count_id(api.id(unit))
                )
            )
        ).one()
    return row.rev, row.obliged, row.encouraged, row.seq, row.origin


async def test_d12_d26_every_roster_write_through_the_api_publishes_the_units_count(api: Api) -> None:
    mk = Maker(api)
    a = await mk.member("H1B1")
    assert (await _count(api, "H1B1"))[:3] == (1, 1, 0)
    old = await mk.member("H1B1", birth_year=1950, obligation="over_60")
    rev, obliged, encouraged, seq, origin = await _count(api, "H1B1")
    assert (rev, obliged, encouraged, origin) == (2, 1, 1, None), "written here: it goes up with the next push"
    await api.ok("PATCH", f"/api/v1/members/{a['id']}", json={"note": "Chuyển sinh hoạt tạm thời"})
    assert (await _count(api, "H1B1"))[:4] == (2, 1, 1, seq), "unchanged counts are not rewritten"
    await api.ok("PATCH", f"/api/v1/members/{a['id']}", json={"obligation": "health"})
    assert (await _count(api, "H1B1"))[:3] == (3, 0, 2)
    await api.ok("DELETE", f"/api/v1/members/{old['id']}")
    rev, obliged, encouraged, later, _ = await _count(api, "H1B1")
    assert (rev, obliged, encouraged) == (4, 0, 1)
    assert later > seq, "each revision is a new entry of the feed, synced like any record"
    book = xlsx([["Họ và tên", "Năm sinh", "Diện"], ["Hoàng Văn Em", 1990, ""], ["Đỗ Thị Gấm", 1960, "Trên 60 tuổi"]])
    upload = {"data": ("ds.xlsx", book, "application/octet-stream")}
    query = {"unit": str(api.id("H1B1"))}
    await api.ok("POST", "/api/v1/members/import", params={**query, "dry_run": "true"}, files=upload)
    assert (await _count(api, "H1B1"))[:3] == (4, 0, 1), "a dry run changes nothing"
    await api.ok("POST", "/api/v1/members/import", params=query, files=upload)
    assert (await _count(api, "H1B1"))[:3] == (5, 1, 2)
    await api.ok("POST", "/api/v1/members", ("H2", "editor"), json={"full_name": "Vũ Văn Hải", "birth_year": 1990})
    assert (await _count(api, "H1B1"))[:3] == (5, 1, 2), "another unit's roster leaves this count alone"


async def test_d14_d15_d18_d22_programmes_and_surveys_come_with_the_figures(api: Api, seeded: dict[str, Any]) -> None:
    """A district's programme with progress, the province's questionnaire answered at a base: counted as of the
    cut-off (01/03/2024) and in the district's row (D26)."""
    target = {"indicator": "Tỷ lệ đảng viên viết bài thu hoạch", "measure": "%", "baseline": "80",
              "baseline_source": "Báo cáo năm 2020", "target_value": "95", "deadline": "2023-12-31"}  # fmt: skip
    programme = await api.ok("POST", "/api/v1/action-programmes", json={
        "document": seeded["id"], "title": "Chương trình hành động", "issued_on": "2021-04-01",
        "situation": "Khảo sát thực trạng", "targets": [target], "unit": str(api.id("H1")),
    })  # fmt: skip
    key = programme["targets"][0]["key"]
    for year, value, on in ((2022, "90", "2023-01-10"), (2023, "96", "2024-06-01")):  # the second after the cut-off
        await api.ok("POST", "/api/v1/programme-progress", json={
            "programme": programme["id"], "target": key, "year": year, "value": value, "reported_on": on,
        })  # fmt: skip
    q = await api.ok("POST", "/api/v1/questionnaires", json={
        "title": "Khảo sát", "document": seeded["id"], "opens_on": "2023-10-01", "closes_on": "2024-12-31",
        "questions": [{"key": "q1", "kind": "scale", "text": "Mức độ hiểu", "scale_min": 1, "scale_max": 5}],
        "unit": str(api.id("TU")),
    })  # fmt: skip
    for value, on in ((4, "2023-11-01"), (5, "2023-11-02"), (1, "2024-04-01")):
        await api.ok("POST", "/api/v1/survey-responses", json={
            "questionnaire": q["id"], "answered_on": on, "group": "member", "unit": str(api.id("H1B1")),
            "answers": [{"question": "q1", "value": value}],
        })  # fmt: skip
    c = await api.ok("GET", V, params=_params(seeded))
    assert c["reconciles"] is True
    p = c["figures"]["programmes"]
    assert (p["programmes"], p["targets"], p["reported"], p["met"], p["overdue"]) == (1, 1, 1, 0, 1)
    assert (p["met_percent"], p["reporting_percent"]) == (0.0, 100.0), "90 by the cut-off: not yet 95"
    (survey,) = c["figures"]["surveys"]["questionnaires"]
    assert (survey["responses"], survey["by_group"]) == (2, {"member": 2}), "the April answer is after the cut-off"
    (question,) = survey["questions"]
    assert question["counts"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1}
    assert (question["total"], question["mean"]) == ("9", 4.5)
    h1 = {r["unit"]["code"]: r["figures"] for r in c["children"]}["H1"]
    assert h1["programmes"] == p
    assert h1["surveys"] == c["figures"]["surveys"]
