"""The action programme pages (D14, D15, D18) and the survey pages (D22): lists with filters and .xlsx, the forms
that build, edit and report, and refusals that keep what was typed and say next to the field what to fix."""

from __future__ import annotations

import io
import re
from typing import Any

from openpyxl import load_workbook

from tests.domain_harness import Maker
from tests.ui.conftest import Ui, text_of
from tests.workflow_harness import FlowMaker

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _error(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="error" id="{field_id}">([^<]*)</p>', html)
    assert match, f"no error shown for {field_id}"
    return match.group(1)


def _programme_form(doc: dict[str, Any], **kw: str) -> dict[str, str]:
    return {
        "document": doc["id"],
        "kind": "programme",
        "number": "05-CTr/HU",
        "title": "Chương trình thực hiện nghị quyết",
        "issued_on": "01/04/2021",
        "situation": "Khảo sát tháng 3/2021: 72,5% đảng viên viết bài thu hoạch.",
        "t0_indicator": "Tỷ lệ đảng viên viết bài thu hoạch",
        "t0_measure": "%",
        "t0_baseline": "72,5",
        "t0_source": "Khảo sát tháng 3/2021",
        "t0_target": "95",
        "t0_deadline": "31/12/2023",
        **kw,
    }


async def test_d15_d18_a_programme_is_built_reported_and_shown_met_from_the_pages(ui: Ui, mk: Maker) -> None:
    doc = await mk.doc("TU")
    h1 = ui.api.id("H1")
    empty = await ui.page("/chuong-trinh", ("H1", "editor"))
    assert "Chưa có chương trình hành động nào" in text_of(empty)
    # D15: a target without the source of its baseline is refused next to that input, the typed values kept.
    bad = await ui.post("/chuong-trinh", ("H1", "editor"), _programme_form(doc, t0_source="", t0_deadline="31/12/2020"))
    assert bad.status_code == 422
    assert "nguồn" in _error(bad.text, "p-e-t0_source")
    assert 'value="72,5"' in bad.text
    assert 'value="Tỷ lệ đảng viên viết bài thu hoạch"' in bad.text
    early = await ui.post("/chuong-trinh", ("H1", "editor"), _programme_form(doc, t0_deadline="31/12/2020"))
    assert early.status_code == 422
    assert "Thời hạn" in _error(early.text, "p-e-t0_deadline")
    made = await ui.post("/chuong-trinh", ("H1", "editor"), _programme_form(doc))
    assert made.status_code == 303, text_of(made.text)
    url = made.headers["location"].split("?")[0]
    page = text_of(await ui.page(url, ("H1", "viewer")))
    assert "05-CTr/HU" in page
    assert "72,5" in page
    assert "Khảo sát tháng 3/2021" in page
    assert "31/12/2023" in page
    # D18: a yearly figure below the target leaves it unmet; one that reaches it makes it met.
    progress = {"year": "2022", "value": "80,5", "reported_on": "15/12/2022", "note": ""}
    key = re.search(r'<option value="([0-9a-f-]{36})">Tỷ lệ', await ui.page(url, ("H1", "editor")))
    assert key
    refused = await ui.post(f"{url}/tien-do", ("H1", "editor"), {**progress, "target": key.group(1), "value": "nhiều"})
    assert refused.status_code == 422
    assert 'value="nhiều"' in refused.text
    assert "phải là một số" in _error(refused.text, "g-e-value")
    ok = await ui.post(f"{url}/tien-do", ("H1", "editor"), {**progress, "target": key.group(1)})
    assert ok.status_code == 303
    # The deadline (31/12/2023) has passed without the target reached: overdue until a figure meets it.
    assert "Quá hạn chưa đạt" in text_of(await ui.page(url, ("H1", "viewer")))
    assert "Chương trình thực hiện nghị quyết" in text_of(await ui.page("/chuong-trinh?state=overdue&unit=" + str(h1)))
    met = {**progress, "target": key.group(1), "year": "2023", "value": "96", "reported_on": "20/12/2023"}
    assert (await ui.post(f"{url}/tien-do", ("H1", "editor"), met)).status_code == 303
    shown = text_of(await ui.page(url, ("H1", "viewer")))
    assert "96 (2023)" in shown
    assert "80,5" in shown
    # The list filters by state and document, and exports what it shows.
    listed = text_of(await ui.page(f"/chuong-trinh?state=met&document={doc['id']}", ("TU", "viewer")))
    assert "Chương trình thực hiện nghị quyết" in listed
    assert "Chương trình thực hiện nghị quyết" not in text_of(await ui.page("/chuong-trinh?state=overdue"))
    sheet = await ui.get(f"/chuong-trinh.xlsx?unit={h1}&state=met", ("TU", "viewer"))
    assert sheet.status_code == 200
    assert sheet.headers["content-type"].startswith(XLSX)
    rows = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[1][5] == "Tỷ lệ đảng viên viết bài thu hoạch"
    assert rows[1][13] == "Đạt"


async def test_d14_editing_a_programme_keeps_its_targets_progress_and_refuses_a_cell(ui: Ui, mk: Maker) -> None:
    doc = await mk.doc("TU")
    made = await ui.post("/chuong-trinh", ("H1", "editor"), _programme_form(doc))
    url = made.headers["location"].split("?")[0]
    page = await ui.page(url, ("H1", "editor"))
    form = dict(re.findall(r'name="(t0_[a-z]+|rev|title|number|issued_on)"[^>]*value="([^"]*)"', page))
    form.update(situation="Khảo sát lại.", t0_target="97", title="Chương trình (sửa)")
    edited = await ui.post(f"{url}/sua", ("H1", "editor"), form)
    assert edited.status_code == 303, text_of(edited.text)
    shown = text_of(await ui.page(url, ("H1", "viewer")))
    assert "Chương trình (sửa)" in shown
    assert "97" in shown
    stale = await ui.post(f"{url}/sua", ("H1", "editor"), {**form, "title": ""})
    assert stale.status_code == 422
    assert "Nhập tên" in _error(stale.text, "e-e-title")
    # A viewer sees no forms; a programme sent down is read below but not edited there.
    assert "Ghi kết quả" not in await ui.page(url, ("H1", "viewer"))


async def test_d22_a_questionnaire_is_built_answered_at_the_base_and_counted(ui: Ui, mk: Maker) -> None:
    h1, b1 = ui.api.id("H1"), ui.api.id("H1B1")
    assert "Chưa có phiếu khảo sát nào" in text_of(await ui.page("/khao-sat", ("H1", "viewer")))
    build = {
        "title": "Khảo sát việc học tập nghị quyết",
        "method": "form",
        "opens_on": "01/09/2023",
        "closes_on": "31/12/2099",
        "selected_units": str(b1),
        "q0_text": "Đồng chí có tham gia học tập không?",
        "q0_kind": "single",
        "q0_options": "Có\nKhông",
        "q1_text": "Hình thức nào phù hợp?",
        "q1_kind": "multiple",
        "q1_options": "Hội nghị\nTrực tuyến\nTự học",
        "q2_text": "Mức độ hài lòng",
        "q2_kind": "scale",
        "q2_scale": "1-5",
        "q3_text": "Số buổi đã dự",
        "q3_kind": "number",
        "q4_text": "Ý kiến khác",
        "q4_kind": "text",
    }
    no_options = await ui.post("/khao-sat", ("H1", "editor"), {**build, "q1_options": ""})
    assert no_options.status_code == 422
    assert "Hình thức nào phù hợp?" in no_options.text
    assert "q1_options" in no_options.text
    made = await ui.post("/khao-sat", ("H1", "editor"), build)
    assert made.status_code == 303, text_of(made.text)
    url = made.headers["location"].split("?")[0]
    at_base = f"{url}?unit={b1}"
    named = await ui.post(
        f"{url}/nguoi-tra-loi?unit={b1}", ("H1", "editor"), {"full_name": " Nguyễn  Văn An ", "group": "member"}
    )
    assert named.status_code == 303, text_of(named.text)
    page = await ui.page(at_base, ("H1", "editor"))
    respondent = re.search(r'<option value="([0-9a-f-]{36})">Nguyễn Văn An', page)
    assert respondent
    answers = {"a_q1": "Có", "a_q2": ["Hội nghị", "Tự học"], "a_q3": "4", "a_q4": "2,5", "a_q5": "Tốt"}
    missing = await ui.post(
        f"{url}/phieu?unit={b1}",
        ("H1", "editor"),
        {"answered_on": "15/09/2023", "respondent": respondent.group(1), "a_q1": "Có"},
    )
    assert missing.status_code == 422
    assert "bắt buộc" in _error(missing.text, "s-e-a_q2")
    assert 'value="Có" checked' in missing.text
    first = {"answered_on": "15/09/2023", "respondent": respondent.group(1), **answers}
    assert (await ui.post(f"{url}/phieu?unit={b1}", ("H1", "editor"), first)).status_code == 303
    other = {"answered_on": "16/09/2023", "group": "public", **answers, "a_q2": "Trực tuyến", "a_q3": "5", "a_q4": "3"}
    assert (await ui.post(f"{url}/phieu?unit={b1}", ("H1", "editor"), other)).status_code == 303
    # The same figures at the district as at the base: counts, rates of those who answered, means with a comma.
    results = text_of(await ui.page(url, ("H1", "viewer")))
    assert "Hội nghị 1 50%" in results
    assert "Trung bình 4,5" in results
    assert "Trung bình 2,75" in results
    assert "Tốt" in results
    assert re.search(r"H1B1\S* Có 2 100%|Có 2 100%", results)
    listed = await ui.get(f"/khao-sat.xlsx?unit={h1}&state=open", ("TU", "viewer"))
    rows = list(load_workbook(io.BytesIO(listed.content)).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[1][0] == "Khảo sát việc học tập nghị quyết"
    assert rows[1][6] == "Đang khảo sát"


async def test_d22_pages_of_a_survey_sent_down_show_at_the_unit_chosen(ui: Ui, mk: Maker) -> None:
    q = await FlowMaker(ui.api).questionnaire("TU")
    assert q["title"] in text_of(await ui.page("/khao-sat", ("H1", "viewer")))
    assert "Chưa có phiếu trả lời nào" in text_of(await ui.page(f"/khao-sat/{q['id']}", ("H1", "viewer")))
