"""The review calendar pages (D16–D21): a document's calendar with its overrides, plans, projects and held reviews;
refused forms keep what was typed and say next to the field what to fix; a sibling's records never show (D4)."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

from tests.domain_harness import Maker
from tests.ui.conftest import Ui, text_of

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _error(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="error" id="{field_id}">([^<]*)</p>', html)
    assert match, f"no error shown for {field_id}"
    return match.group(1)


def _rows(content: bytes) -> list[tuple[object, ...]]:
    return list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))  # type: ignore[union-attr]


async def test_d16_d17_a_review_is_moved_through_the_form_with_its_reason_and_instructing_document(
    ui: Ui, mk: Maker
) -> None:
    doc = await mk.doc("TU", signed_on="2021-03-01")
    url = f"/lich-so-ket/van-ban/{doc['id']}"
    page = text_of(await ui.page(url))
    assert "01/03/2024" in page, "D16: a provincial document's preliminary review after 3 full years"
    assert "01/03/2026" in page, "D16: its final review after 5"
    assert "01/01/2024" in page, "D20: the plan 2 months before"
    assert "Chưa có điều chỉnh nào" in page
    # D17: no reason, and a number that is not a document number: both said next to their field, typed text kept.
    bad = await ui.post(
        f"{url}/dieu-chinh", data={"kind": "final", "due": "01/06/2025", "reason": "", "instructing_document": "CV 1"}
    )
    assert bad.status_code == 422
    assert "lý do" in _error(bad.text, "o-e-reason")
    assert 'value="01/06/2025"' in bad.text
    assert 'value="CV 1"' in bad.text
    wrong_number = await ui.post(
        f"{url}/dieu-chinh",
        data={"kind": "final", "due": "01/06/2025", "reason": "Theo Kết luận", "instructing_document": "CV 1"},
    )
    assert wrong_number.status_code == 422
    assert _error(wrong_number.text, "o-e-instructing_document")
    assert "Theo Kết luận" in wrong_number.text
    bad_day = await ui.post(
        f"{url}/dieu-chinh",
        data={"kind": "final", "due": "31/02/2025", "reason": "Theo Kết luận", "instructing_document": "12-CV/TU"},
    )
    assert bad_day.status_code == 422
    assert _error(bad_day.text, "o-e-due")
    made = await ui.post(
        f"{url}/dieu-chinh",
        data={
            "kind": "final",
            "due": "01/06/2025",
            "reason": "Theo chỉ đạo tổng kết sớm của Tỉnh ủy",
            "instructing_document": "Số: 12 - CV/TU",
        },
    )
    assert made.status_code == 303, text_of(made.text)
    shown = text_of(await ui.page(url, ("TU", "viewer")))
    assert "Theo chỉ đạo tổng kết sớm của Tỉnh ủy" in shown
    assert "12-CV/TU" in shown, "D5a: the instructing document's number as normalised"
    assert "01/06/2025" in shown
    assert "Đang áp dụng" in shown
    assert "Ghi điều chỉnh" not in shown, "a viewer gets no form"
    listed = text_of(await ui.page("/lich-so-ket?kind=final"))
    assert "điều chỉnh theo 12-CV/TU" in listed
    # The district holds the document and sees the move, but only the issuing level or above decides one (D17).
    below = await ui.page(url, ("H1", "admin"))
    assert "Theo chỉ đạo tổng kết sớm của Tỉnh ủy" in text_of(below)
    assert "Ghi điều chỉnh" not in below
    refused = await ui.post(
        f"{url}/dieu-chinh",
        ("TU", "editor"),
        {"kind": "preliminary", "due": "01/01/2024", "reason": "x", "instructing_document": "1-CV/TU"},
    )
    assert refused.status_code == 403, "moving a review is the committee's decision (admin)"
    override_id = re.search(r"/lich-so-ket/dieu-chinh/([0-9a-f-]{36})/rut", await ui.page(url))
    assert override_id
    gone = await ui.post(f"/lich-so-ket/dieu-chinh/{override_id.group(1)}/rut", data={"document": doc["id"]})
    assert gone.status_code == 303
    assert "Chưa có điều chỉnh nào" in text_of(await ui.page(url))
    sheet = await ui.get("/lich-so-ket.xlsx", ("TU", "viewer"))
    assert sheet.headers["content-type"].startswith(XLSX)
    rows = _rows(sheet.content)
    assert rows[0][0] == "Văn bản"
    assert [r[2] for r in rows[1:]] == ["Sơ kết", "Tổng kết"]


async def test_d19_d20_plans_are_issued_through_the_form_late_ones_flagged_and_a_sibling_never_shows(
    ui: Ui, mk: Maker
) -> None:
    doc = await mk.doc("TU", signed_on="2021-03-01")
    empty = text_of(await ui.page("/lich-so-ket/ke-hoach", ("H1", "viewer")))
    assert "Chưa có kế hoạch sơ kết, tổng kết nào" in empty
    # D19: what next year's plan and the term plan must list.
    preview = text_of(await ui.page("/lich-so-ket/ke-hoach?year=2026&term_start=01/10/2020"))
    assert "Năm 2026: 1 mốc" in preview
    assert "Nhiệm kỳ 01/10/2020 – 01/10/2025: 1 mốc" in preview
    wrong = await ui.page("/lich-so-ket/ke-hoach?term_start=31/02/2020")
    assert _error(wrong, "v-e-term_start")
    # Refused: no number, a year plan without its year; the typed date stays.
    bad = await ui.post("/lich-so-ket/ke-hoach", data={"plan_kind": "year", "number": "", "issued_on": "20/12/2023"})
    assert bad.status_code == 422
    assert "số, ký hiệu" in _error(bad.text, "k-e-number")
    assert "năm áp dụng" in _error(bad.text, "k-e-year")
    assert 'value="20/12/2023"' in bad.text
    made = await ui.post(
        "/lich-so-ket/ke-hoach",
        data={"plan_kind": "year", "number": "19-KH/TU", "issued_on": "01/02/2024", "year": "2024"},
    )
    assert made.status_code == 303, text_of(made.text)
    plan = text_of(await ui.page(made.headers["location"]))
    assert "Kế hoạch năm số 19-KH/TU" in plan
    assert "Ban hành muộn" in plan
    assert "Kế hoạch năm 2024 phải ban hành trong năm 2023 (D19)" in plan
    assert "chậm nhất ngày 01/01/2024 (D20)" in plan
    addition = await ui.post(
        "/lich-so-ket/ke-hoach",
        data={
            "plan_kind": "addition",
            "number": "20-KH/TU",
            "issued_on": "01/05/2024",
            "a0_document": "",
            "a0_kind": "",
        },
    )
    assert addition.status_code == 422
    assert "ít nhất một mốc" in _error(addition.text, "k-e-a0_document")
    # The plan travels down: the district sees it, and the document's calendar names it.
    assert "19-KH/TU" in text_of(await ui.page("/lich-so-ket/ke-hoach?state=late", ("H1", "viewer")))
    assert "19-KH/TU" not in text_of(await ui.page("/lich-so-ket/ke-hoach?state=on_time", ("H1", "viewer")))
    assert "Kế hoạch năm số 19-KH/TU" in text_of(await ui.page(f"/lich-so-ket/van-ban/{doc['id']}", ("H1", "viewer")))
    # D4: a district's own plan reaches its subtree and the province, never its sibling.
    own = await ui.post(
        "/lich-so-ket/ke-hoach",
        ("H2", "admin"),
        {"plan_kind": "year", "number": "25-KH/HU", "issued_on": "15/12/2025", "year": "2026"},
    )
    assert own.status_code == 303, text_of(own.text)
    assert "25-KH/HU" in text_of(await ui.page("/lich-so-ket/ke-hoach", ("H2", "viewer")))
    assert "25-KH/HU" in text_of(await ui.page(f"/lich-so-ket/ke-hoach?unit={ui.api.id('H2')}"))
    assert "25-KH/HU" not in text_of(await ui.page("/lich-so-ket/ke-hoach", ("H1", "admin")))
    assert (await ui.get(f"/lich-so-ket/ke-hoach?unit={ui.api.id('H2')}", ("H1", "admin"))).status_code == 403
    assert (await ui.get(own.headers["location"], ("H1", "admin"))).status_code == 404
    sheet = await ui.get("/lich-so-ket/ke-hoach.xlsx", ("H1", "viewer"))
    rows = _rows(sheet.content)
    assert [(r[0], r[7], r[10]) for r in rows[1:]] == [("19-KH/TU", "Sơ kết", "Ban hành muộn")]


async def test_d21_held_reviews_climb_from_the_base_and_projects_are_proposed_and_approved(ui: Ui, mk: Maker) -> None:
    doc = await mk.doc("TU", signed_on="2021-03-01")
    h1 = ui.api.id("H1")
    held = {"document": doc["id"], "kind": "preliminary", "held_on": "25/02/2024", "report_number": "45-BC/HU"}
    early = await ui.post("/lich-so-ket/da-to-chuc", ("H1", "editor"), held)
    assert early.status_code == 422
    message = _error(early.text, "h-e-waived_reason")
    assert "H1B1" in message
    assert "waived_reason" not in message, "the API's field name is not shown to a person"
    assert 'value="25/02/2024"' in early.text
    assert 'value="45-BC/HU"' in early.text
    for code in ("H1B1", "H1B2"):
        at = f"/lich-so-ket/da-to-chuc?unit={ui.api.id(code)}"
        ok = await ui.post(at, ("H1", "editor"), {**held, "report_number": "", "held_on": "10/02/2024"})
        assert ok.status_code == 303, text_of(ok.text)
    ok = await ui.post("/lich-so-ket/da-to-chuc", ("H1", "editor"), held)
    assert ok.status_code == 303, text_of(ok.text)
    listed = text_of(await ui.page("/lich-so-ket/da-to-chuc", ("H1", "viewer")))
    assert "45-BC/HU" in listed
    assert "Đơn vị H1B1" in listed
    assert "01/03/2024" in listed, "D20: the figures count to the due date"
    assert "Đơn vị H1" not in text_of(await ui.page("/lich-so-ket/da-to-chuc", ("H2", "viewer"))), "D4"
    order = text_of(await ui.page(f"/lich-so-ket/van-ban/{doc['id']}?unit={h1}", ("H1", "viewer")))
    assert "đã tổ chức 10/02/2024" in order
    sheet = _rows((await ui.get(f"/lich-so-ket/da-to-chuc.xlsx?document={doc['id']}", ("H1", "viewer"))).content)
    assert sorted(r[0] for r in sheet[1:]) == ["Đơn vị H1", "Đơn vị H1B1", "Đơn vị H1B2"]
    # A review project (đề án, D21): proposed, then approved; an approval before the proposal is refused.
    no_title = await ui.post(
        "/lich-so-ket/de-an",
        ("H1", "editor"),
        {"document": doc["id"], "kind": "final", "title": "", "proposed_on": "01/09/2025"},
    )
    assert no_title.status_code == 422
    assert "tên đề án" in _error(no_title.text, "p-e-title")
    assert 'value="01/09/2025"' in no_title.text
    made = await ui.post(
        "/lich-so-ket/de-an",
        ("H1", "editor"),
        {"document": doc["id"], "kind": "final", "title": "Đề án tổng kết 5 năm", "proposed_on": "01/09/2025"},
    )
    assert made.status_code == 303, text_of(made.text)
    url = made.headers["location"].split("?")[0]
    edit = await ui.page(url, ("H1", "editor"))
    rev = re.search(r'name="rev" value="(\d+)"', edit)
    assert rev
    before = await ui.post(
        f"{url}/sua",
        ("H1", "editor"),
        {"rev": rev.group(1), "title": "Đề án tổng kết 5 năm", "approved_on": "01/08/2025"},
    )
    assert before.status_code == 422
    assert "trước ngày đề xuất" in _error(before.text, "e-e-approved_on")
    approved = await ui.post(
        f"{url}/sua",
        ("H1", "editor"),
        {"rev": rev.group(1), "title": "Đề án tổng kết 5 năm", "approved_on": "15/09/2025"},
    )
    assert approved.status_code == 303, text_of(approved.text)
    assert "Đã phê duyệt, ngày 15/09/2025" in text_of(await ui.page(url, ("H1", "viewer")))
    assert "Đề án tổng kết 5 năm" in text_of(await ui.page("/lich-so-ket/de-an?state=approved"))
    assert "Đề án tổng kết 5 năm" not in text_of(await ui.page("/lich-so-ket/de-an?state=proposed"))
    assert "Đề án tổng kết 5 năm" not in text_of(await ui.page("/lich-so-ket/de-an", ("H2", "admin"))), "D4"
    assert (await ui.get(url, ("H2", "admin"))).status_code == 404
