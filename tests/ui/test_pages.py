"""Every page, for every role, in Vietnamese with the right figures; a viewer gets no edit forms; a unit never sees
a sibling's data on any page (D4)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.domain_harness import Maker
from tests.ui.conftest import Ui, text_of

ROLES = ("viewer", "editor", "admin")
PAGES = ("/", "/van-ban", "/bai-thu-hoach", "/dang-vien", "/hoc-tap", "/tong-hop", "/dong-bo", "/don-vi")


@pytest.fixture
async def seeded(ui: Ui, mk: Maker) -> dict[str, Any]:
    """A provincial resolution and one of each district's own, rosters, grades (one Yếu), sessions, propaganda."""
    tu_doc = await mk.doc("TU", number="15-NQ/TU", title="Về phát triển kinh tế số", signed_on="2021-03-01")
    h1_doc = await mk.doc("H1", number="7-NQ/HU", title="Về nông thôn mới H1", signed_on="2021-02-02")
    h2_doc = await mk.doc("H2", number="9-NQ/HU", title="Về du lịch H2", signed_on="2021-02-03")
    a = await mk.member("H1B1", full_name="Nguyễn Văn An", birth_year=1980)
    b = await mk.member("H1B1", full_name="Trần Thị Bình", birth_year=1985)
    await mk.member("H1B1", full_name="Lê Văn Cụ", birth_year=1950, obligation="over_60")
    z = await mk.member("H2B1", full_name="Phạm Thị Riêng", birth_year=1979)
    await mk.essay("H1B1", a, tu_doc, "8,5")
    await mk.essay("H1B1", b, tu_doc, "4,5")
    await mk.essay("H2B1", z, tu_doc, "9")
    await mk.session("H1", tu_doc)
    await mk.propaganda("H1")
    h2_session = dict(await mk.session("H2", h2_doc))
    return {"tu_doc": tu_doc, "h1_doc": h1_doc, "h2_doc": h2_doc, "h2_session": h2_session}


async def test_every_page_renders_in_vietnamese_for_each_role(ui: Ui, seeded: dict[str, Any]) -> None:
    for role, path in [(r, p) for r in ROLES for p in PAGES]:
        html = await ui.page(path, ("TU", role))
        text = text_of(html)
        assert '<html lang="vi">' in html
        assert "Vai trò:" in text
        assert {"viewer": "Chỉ xem", "editor": "Cập nhật", "admin": "Quản trị"}[role] in text
        assert "Đơn vị TU" in text
        forms = html.count('method="post"')
        # Only the sign-out form for a viewer; editors and admins get the page's own forms too.
        edit_pages = ("/bai-thu-hoach", "/dang-vien", "/hoc-tap")
        if role == "viewer" or path not in edit_pages:
            assert forms == 1, (path, role)
        else:
            assert forms > 1, (path, role)
        if path == "/van-ban":
            assert ("Đăng ký văn bản" in text) is (role != "viewer")


async def test_figures_are_those_of_the_api_in_vietnamese_form(ui: Ui, seeded: dict[str, Any]) -> None:
    doc = seeded["tu_doc"]
    text = text_of(await ui.page(f"/bai-thu-hoach?document={doc['id']}"))
    # Obliged: members, wrote, rate, not written; encouraged: members, wrote, rate; Tốt, Khá, Trung bình, Yếu; rewrites.
    assert "Đơn vị TU (toàn đơn vị) 3 3 100% 0 1 0 0% 1 1 0 1 1" in text
    assert "Đơn vị H1 2 2 100% 0 1 0 0% 0 1 0 1 1" in text
    assert "Đơn vị H2 1 1 100% 0 0 0 — 1 0 0 0 0" in text
    h1 = text_of(await ui.page(f"/bai-thu-hoach?document={doc['id']}&unit={ui.api.id('H1B1')}"))
    assert "Đơn vị H1B1 (toàn đơn vị) 2 2 100% 0 1 0 0% 0 1 0 1 1" in h1
    assert "Trần Thị Bình (1985)" in h1
    assert "4,5" in h1
    home = text_of(await ui.page(f"/?unit={ui.api.id('H1B1')}"))
    assert "1 bài thu hoạch phải viết lại" in home
    assert "Trần Thị Bình (1985)" in home
    due = await ui.api.ok("GET", f"/api/v1/due?unit={ui.api.id('H1B1')}")
    assert due["total"] >= 1, "the Yếu essay is a rewrite due (D13)"
    assert f"{due['total']} việc đến" in home, "D27: the home page shows the same list as the API"
    for item in due["items"]:
        assert f"{item['kind_vi']} {item['subject']}" in home
    detail = text_of(await ui.page(f"/van-ban/{doc['id']}"))
    assert "15-NQ/TU — Về phát triển kinh tế số" in detail
    assert "Ngày ký 01/03/2021" in detail
    assert "Sơ kết 01/03/2024" in detail
    assert "Tổng kết 01/03/2026" in detail
    study = text_of(await ui.page("/hoc-tap"))
    assert "01/04/2021 Hội nghị học tập" in study
    assert "95%" in study
    assert "5.000" in study


async def test_d4_a_district_never_sees_a_sibling_on_any_page(ui: Ui, seeded: dict[str, Any]) -> None:
    for role in ROLES:
        await _sees_no_sibling(ui, seeded, ("H1", role))


async def _sees_no_sibling(ui: Ui, seeded: dict[str, Any], who: tuple[str, str]) -> None:
    secrets = ("Phạm Thị Riêng", "Về du lịch H2", "9-NQ/HU", "Đơn vị H2")
    for path in PAGES:
        text = text_of(await ui.page(path, who))
        assert not [s for s in secrets if s in text], path
    text = text_of(await ui.page(f"/bai-thu-hoach?document={seeded['tu_doc']['id']}", who))
    assert not [s for s in secrets if s in text]
    h2 = ui.api.id("H2")
    for path in ("/", "/van-ban", "/bai-thu-hoach", "/dang-vien", "/hoc-tap", "/tong-hop"):
        response = await ui.get(f"{path}?unit={h2}", who)
        assert response.status_code == 403, path
        assert "ngoài phạm vi" in text_of(response.text)
    response = await ui.get(f"/van-ban/{seeded['h2_doc']['id']}", who)
    assert response.status_code == 404
    assert "Phạm Thị Riêng" not in response.text
    assert "du lịch" not in response.text


async def test_d20_d26_the_consolidation_page_shows_the_figures_per_child_to_every_role(
    ui: Ui, seeded: dict[str, Any]
) -> None:
    doc = seeded["tu_doc"]
    for role in ROLES:
        html = await ui.page(f"/tong-hop?document={doc['id']}&kind=preliminary&cut_off=", ("TU", role))
        text = text_of(html)
        assert html.count('method="post"') == 1, "nothing to write here: only the sign-out form"
        assert "Sơ kết 15-NQ/TU — Về phát triển kinh tế số" in text
        assert "Hạn sơ kết 01/03/2024 Số liệu tính đến ngày 01/03/2024" in text, "D20: up to the due date"
        assert "Tỷ lệ viết bài — diện bắt buộc 100% Tỷ lệ viết bài — diện khuyến khích 0%" in text
        # Obliged: members, wrote, rate; encouraged: members, wrote, rate; Tốt, Khá, Trung bình, Yếu; rewrites.
        assert "Đơn vị H1 2 2 100% 1 0 0% 0 1 0 1 1" in text
        assert "Đơn vị H2 1 1 100% 0 0 — 1 0 0 0 0" in text
        assert "Toàn Đơn vị TU 3 3 100% 1 0 0% 1 1 0 1 1" in text
        assert "Đơn vị H1 1 100 95 95%" in text, "study sessions, invited, attended, attendance"
        assert "khớp (toàn đơn vị = cấp mình + các đơn vị trực thuộc)" in text
        assert "Quá hạn, chưa nộp" in text, "late and overdue reports are listed (D25b)"
    xlsx_link = f"/api/v1/consolidations/export.xlsx?document={doc['id']}&amp;kind=preliminary&amp;unit="
    assert xlsx_link in html
    link = html.split('href="/api/v1/consolidations/export.docx?', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    download = await ui.get(f"/api/v1/consolidations/export.docx?{link}", ("TU", "viewer"))
    assert download.status_code == 200, "the page's session cookie downloads the file"
    vietnamese = "filename*=UTF-8''T%E1%BB%95ng%20h%E1%BB%A3p%20s%C6%A1%20k%E1%BA%BFt%2015-NQ-TU%20-%20TU.docx"
    assert vietnamese in download.headers["content-disposition"]


async def test_d20_bad_input_is_shown_next_to_its_field_and_nothing_is_computed(ui: Ui, seeded: dict[str, Any]) -> None:
    doc = seeded["tu_doc"]["id"]
    for query, field, message in (
        (f"document={doc}&kind=preliminary&cut_off=31/02/2024", "cut_off", "Không có ngày 31/02/2024 trong lịch."),
        (f"document={doc}&kind=hang-nam", "kind", "Chọn sơ kết hoặc tổng kết."),
        ("document=&kind=final", "document", "Chọn văn bản cần tổng hợp."),
        (f"document={seeded['h2_doc']['id']}&kind=final", "document", "không được gửi đến đơn vị này"),
    ):
        response = await ui.get(f"/tong-hop?{query}", ("H1", "viewer"))
        assert response.status_code == 422, query
        assert f'<p class="error" id="t-e-{field}">' in response.text
        error = response.text.split(f'id="t-e-{field}">', 1)[1].split("</p>", 1)[0]
        assert message in error, query
        text = text_of(response.text)
        assert "Bài thu hoạch (D12, D13)" not in text
        assert "Tải bảng tổng hợp" not in text
        assert "du lịch" not in text


async def test_d4_the_consolidation_page_of_a_district_holds_nothing_of_its_sibling(
    ui: Ui, seeded: dict[str, Any]
) -> None:
    for role in ROLES:
        text = text_of(await ui.page(f"/tong-hop?document={seeded['tu_doc']['id']}&kind=final", ("H1", role)))
        assert "Tổng kết 15-NQ/TU" in text
        assert "Đơn vị H1B1" in text
        assert "Đơn vị H2" not in text
        assert "Riêng" not in text
        refused = await ui.get(f"/tong-hop?unit={ui.api.id('H2')}&document={seeded['tu_doc']['id']}", ("H1", role))
        assert refused.status_code == 403
        assert "ngoài phạm vi" in text_of(refused.text)


async def test_d15_d22_the_consolidation_page_shows_programme_targets_and_survey_answers(
    ui: Ui, seeded: dict[str, Any]
) -> None:
    doc = seeded["tu_doc"]
    target = {"indicator": "Tỷ lệ đảng viên viết bài thu hoạch", "measure": "%", "baseline": "80",
              "baseline_source": "Báo cáo năm 2020", "target_value": "95", "deadline": "2023-12-31"}  # fmt: skip
    programme = await ui.api.ok("POST", "/api/v1/action-programmes", json={
        "document": doc["id"], "title": "Chương trình hành động", "issued_on": "2021-04-01",
        "situation": "Khảo sát thực trạng", "targets": [target], "unit": str(ui.api.id("H1")),
    })  # fmt: skip
    await ui.api.ok("POST", "/api/v1/programme-progress", json={
        "programme": programme["id"], "target": programme["targets"][0]["key"], "year": 2022, "value": "96",
        "reported_on": "2023-01-10",
    })  # fmt: skip
    q = await ui.api.ok("POST", "/api/v1/questionnaires", json={
        "title": "Khảo sát mức độ hiểu", "document": doc["id"], "opens_on": "2023-10-01", "closes_on": "2024-12-31",
        "questions": [{"key": "q1", "kind": "scale", "text": "Mức độ hiểu", "scale_min": 1, "scale_max": 5}],
        "unit": str(ui.api.id("TU")),
    })  # fmt: skip
    for value, group in ((4, "member"), (5, "public")):
        await ui.api.ok("POST", "/api/v1/survey-responses", json={
            "questionnaire": q["id"], "answered_on": "2023-11-01", "group": group, "unit": str(ui.api.id("H1")),
            "answers": [{"question": "q1", "value": value}],
        })  # fmt: skip
    text = text_of(await ui.page(f"/tong-hop?document={doc['id']}&kind=preliminary&cut_off=", ("TU", "viewer")))
    assert "Chỉ tiêu đạt 1/1 (100%)" in text
    # Programmes, units with one, targets, reported, met, rate, overdue and not met.
    assert "Đơn vị H1 1 1 1 1 1 100% 0" in text
    assert "Khảo sát mức độ hiểu 2 phiếu" in text
    assert "Đơn vị H1 1 0 1 2" in text, "answers by respondent group: member, cadre, public, total (D22)"
    assert "bình quân 4,5 điểm" in text
