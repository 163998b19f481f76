"""Essay grading by member list and essay templates per level (D11–D13): scores typed with a decimal comma,
a Yếu essay shown as owing a rewrite until a later attempt reaches Trung bình, the attempts listed per member,
refusals that keep what was typed, and nothing of a sibling unit shown (D4)."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

from tests.domain_harness import Maker
from tests.ui.conftest import Ui, text_of

SHEET = "/bai-thu-hoach/cham-theo-danh-sach"


def _error(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="error" id="{field_id}">([^<]*)</p>', html)
    assert match, f"no error shown for {field_id}"
    return match.group(1)


async def test_d13_a_yeu_essay_is_rewritten_from_the_sheet_and_every_attempt_is_shown(ui: Ui, mk: Maker) -> None:
    doc = await mk.doc("TU")
    an = await mk.member("H1B1", full_name="Nguyễn Văn An", birth_year=1980)
    binh = await mk.member("H1B1", full_name="Trần Thị Bình", birth_year=1985)
    who = ("H1", "editor")
    url = f"{SHEET}?unit={ui.api.id('H1B1')}&document={doc['id']}"
    first = await ui.page(url, who)
    assert text_of(first).count("Chưa chấm") >= 2
    a, b = f"score_{an['id']}", f"score_{binh['id']}"
    # One bad box refuses the whole sheet: the good box is not written either, both typed values stay.
    bad = await ui.post(url, who, {a: "4,5", b: "10,5", "graded_on": "05/05/2021"})
    assert bad.status_code == 422
    assert _error(bad.text, f"s-e-{binh['id']}")
    assert 'value="4,5"' in bad.text
    assert 'value="10,5"' in bad.text
    assert "Lần 1" not in text_of(await ui.page(url, who)), "all or nothing: no box written"
    ok = await ui.post(url, who, {a: "4,5", b: "8,5", "graded_on": "05/05/2021"})
    assert ok.status_code == 303, text_of(ok.text)
    shown = text_of(await ui.page(ok.headers["location"], who))
    assert "Đã ghi điểm 2 bài" in shown
    assert "Lần 1: 4,5 — Yếu (05/05/2021)" in shown
    assert "Phải viết lại" in shown
    # D13: the rewrite box is offered for the Yếu essay only; Bình's Khá needs none and gets no box.
    html = await ui.page(url, who)
    assert f'name="{a}"' in html
    assert f'name="{b}"' not in html
    assert "Điểm viết lại lần 2 của Nguyễn Văn An" in html
    assert "Nguyễn Văn An" in text_of(await ui.page(url + "&state=rewrite", who))
    assert "Trần Thị Bình" not in text_of(await ui.page(url + "&state=rewrite", who))
    rewrite = await ui.post(url, who, {a: "6,0", "graded_on": "20/05/2021"})
    assert rewrite.status_code == 303
    after = text_of(await ui.page(url, who))
    assert "Lần 1: 4,5 — Yếu (05/05/2021) Lần 2: 6 — Trung bình (20/05/2021)" in after
    assert "Phải viết lại" not in after.split("xếp theo tên", 1)[1]
    # The member's own page lists the attempts too.
    member = text_of(await ui.page(f"/dang-vien/{an['id']}", who))
    assert "1 4,5 Yếu 05/05/2021 Đã viết lại 2 6 Trung bình 20/05/2021 Kết quả" in member
    got = await ui.get(url.replace(SHEET, SHEET + ".xlsx"), who)
    sheet = load_workbook(io.BytesIO(got.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == "Nguyễn Văn An"
    assert rows[1][4:8] == (2, 6, "Trung bình", "Đã đạt")


async def test_d4_the_sheet_of_a_sibling_unit_is_refused_and_its_members_never_listed(ui: Ui, mk: Maker) -> None:
    doc = await mk.doc("TU")
    await mk.member("H2B1", full_name="Phạm Thị Riêng", birth_year=1979)
    theirs = await mk.member("H2B1", full_name="Lê Văn Khác", birth_year=1979)
    await mk.member("H1B1", full_name="Nguyễn Văn Mình", birth_year=1979)
    who = ("H1", "editor")
    mine = text_of(await ui.page(f"{SHEET}?document={doc['id']}", who))
    assert "Nguyễn Văn Mình" in mine
    assert "Phạm Thị Riêng" not in mine
    assert (await ui.get(f"{SHEET}?unit={ui.api.id('H2B1')}&document={doc['id']}", who)).status_code == 403
    # A box named after a sibling's member is ignored: only members of the viewed roster are read.
    posted = await ui.post(
        f"{SHEET}?document={doc['id']}", who, {f"score_{theirs['id']}": "9", "graded_on": "05/05/2021"}
    )
    assert posted.status_code == 422
    assert "Chưa nhập điểm nào" in text_of(posted.text)
    # A viewer sees the sheet without boxes.
    assert "score_" not in await ui.page(f"{SHEET}?document={doc['id']}", ("H1", "viewer"))


async def test_d11_each_level_writes_its_template_and_sees_those_sent_down(ui: Ui, mk: Maker) -> None:
    doc = await mk.doc("TU")
    await mk.template("TU", doc)
    who = ("H1", "editor")
    path = "/bai-thu-hoach/mau"
    seen = text_of(await ui.page(path, who))
    assert "Câu hỏi thu hoạch" in seen
    assert "Đơn vị TU" in seen, "the province's template reaches the district (D11)"
    form = {"document": doc["id"], "title": "Câu hỏi thu hoạch cấp huyện", "for_whom": "", "issued_on": "20/03/2021"}
    empty = await ui.post(path, who, {**form, "questions": "  \n "})
    assert empty.status_code == 422
    assert "ít nhất một câu hỏi" in _error(empty.text, "t-e-questions")
    assert 'value="Câu hỏi thu hoạch cấp huyện"' in empty.text
    bad_day = await ui.post(path, who, {**form, "questions": "Điểm mới?", "issued_on": "31/02/2021"})
    assert bad_day.status_code == 422
    assert _error(bad_day.text, "t-e-issued_on")
    assert "Điểm mới?" in bad_day.text
    made = await ui.post(path, who, {**form, "questions": "Điểm mới của nghị quyết?\nLiên hệ bản thân?"})
    assert made.status_code == 303, text_of(made.text)
    again = await ui.post(path, who, {**form, "questions": "Trùng?"})
    assert again.status_code == 422
    assert "đã có mẫu" in _error(again.text, "t-e-document")
    listed = await ui.page(path, who)
    assert "Liên hệ bản thân?" in text_of(listed)
    edit = re.search(r'href="/bai-thu-hoach/mau\?edit=([0-9a-f-]{36})#soan-h"', listed)
    assert edit, "the district edits its own template only"
    assert listed.count("Sửa mẫu này") == 1
    page = await ui.page(f"{path}?edit={edit.group(1)}", who)
    rev = re.search(r'name="rev" value="(\d+)"', page)
    assert rev
    edited = await ui.post(
        f"{path}?edit={edit.group(1)}",
        who,
        {**form, "questions": "Điểm mới?\nLiên hệ bản thân?\nĐề xuất?", "rev": rev.group(1)},
    )
    assert edited.status_code == 303, text_of(edited.text)
    assert "Đề xuất?" in text_of(await ui.page(path, who))
    # D4, D11: the sibling district sees the province's template but not this one.
    other = text_of(await ui.page(path, ("H2", "editor")))
    assert "Câu hỏi thu hoạch cấp huyện" not in other
    assert "Câu hỏi thu hoạch" in other
    got = await ui.get(path + ".xlsx", who)
    assert got.status_code == 200


async def test_d13_the_base_page_counts_its_cell_graded_by_the_base(ui: Ui, mk: Maker) -> None:
    """The cell's row shows who wrote, not every obliged member as not written (grades are the base's, D13)."""
    doc = await mk.doc("TU")
    wrote, missing = await mk.member("H1B1C1"), await mk.member("H1B1C1")
    await mk.essay("H1B1", wrote, doc, "8,5")
    text = text_of(await ui.page(f"/bai-thu-hoach?document={doc['id']}&unit={ui.api.id('H1B1')}"))
    # Obliged: 2 members, 1 wrote, 50,0%, 1 not written; encouraged: 0, 0, —.
    assert "Đơn vị H1B1C1 2 1 50% 1 0 0 —" in text, text
    assert missing["id"]
