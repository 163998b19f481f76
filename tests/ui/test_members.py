"""The members pages (D12): add, edit, move and leave through forms, refusals that keep what was typed and say
next to the field what to fix, Vietnamese name order, filters, .xlsx, counts that follow, and D4 scope."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from sqlalchemy import select

from shared.members.rosters import ROSTER_COUNT, roster_count_id
from tests.domain_harness import Maker
from tests.ui.conftest import Ui, text_of

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _error(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="error" id="{field_id}">([^<]*)</p>', html)
    assert match, f"no error shown for {field_id}"
    return match.group(1)


def _member(ui: Ui, unit: str, **kw: str) -> dict[str, str]:
    return {
        "unit": str(ui.api.id(unit)),
        "full_name": "Nguyễn Văn Bình",
        "birth_year": "1978",
        "obligation": "obliged",
        "post": "",
        "note": "",
        **kw,
    }


async def _counts(ui: Ui, unit: str) -> tuple[int, int]:
    rc = ROSTER_COUNT.table
    async with ui.api.db.read() as conn:
        row = (
            await conn.execute(select(rc.c.obliged, rc.c.encouraged).where(rc.c.id == roster_count_id(ui.api.id(unit))))
        ).one()
    return int(row.obliged), int(row.encouraged)


async def test_d12_a_member_is_added_by_form_and_a_bad_form_changes_nothing(ui: Ui) -> None:
    who = ("H1", "editor")
    # D12: "over 60" contradicted by the birth year is refused next to the category; what was typed stays.
    bad = await ui.post("/dang-vien/them", who, _member(ui, "H1B1", obligation="over_60", post="Bí thư chi bộ"))
    assert bad.status_code == 422
    assert _error(bad.text, "a-e-obligation")
    assert 'value="Nguyễn Văn Bình"' in bad.text
    assert 'value="Bí thư chi bộ"' in bad.text
    blank = await ui.post("/dang-vien/them", who, _member(ui, "H1B1", full_name="", birth_year="năm 78"))
    assert blank.status_code == 422
    assert "họ và tên" in _error(blank.text, "a-e-full_name")
    assert "số nguyên" in _error(blank.text, "a-e-birth_year")
    assert 'value="năm 78"' in blank.text
    assert "Nguyễn Văn Bình" not in text_of(await ui.page("/dang-vien", who)), "a refused form wrote nothing"
    ok = await ui.post("/dang-vien/them", who, _member(ui, "H1B1"))
    assert ok.status_code == 303, text_of(ok.text)
    listed = text_of(await ui.page(ok.headers["location"], who))
    assert "Đã thêm đảng viên" in listed
    assert "Nguyễn Văn Bình 1978" in listed
    assert await _counts(ui, "H1B1") == (1, 0), "D12, D26: the unit's count follows the roster at once"
    # A viewer reads the list but gets no form.
    assert "Thêm đảng viên" not in await ui.page("/dang-vien", ("H1", "viewer"))


async def test_d12_names_sort_by_given_name_in_vietnamese_order_and_filters_narrow(ui: Ui, mk: Maker) -> None:
    for name, year, kind in (
        ("Đỗ Văn Đức", 1980, "obliged"),
        ("Trần Thị Ánh", 1981, "obliged"),
        ("Lê Văn An", 1950, "over_60"),
        ("Phạm Văn Dũng", 1979, "obliged"),
        ("Hoàng Văn Zô", 1982, "obliged"),
    ):
        await mk.member("H1B1", full_name=name, birth_year=year, obligation=kind)
    await mk.member("H1B2", full_name="Vũ Thị Bích", birth_year=1985)
    html = await ui.page("/dang-vien", ("H1", "viewer"))
    names = re.findall(r'<a href="/dang-vien/[0-9a-f-]{36}[^"]*">([^<]+)</a>', html)
    # By given name: An, Ánh, Bích, Dũng, Đức (Đ after D), Zô.
    assert names == ["Lê Văn An", "Trần Thị Ánh", "Vũ Thị Bích", "Phạm Văn Dũng", "Đỗ Văn Đức", "Hoàng Văn Zô"]
    b1 = str(ui.api.id("H1B1"))
    only_b1 = text_of(await ui.page(f"/dang-vien?unit={b1}", ("H1", "viewer")))
    assert "Vũ Thị Bích" not in only_b1
    assert "Lê Văn An" in only_b1
    encouraged = text_of(await ui.page("/dang-vien?category=encouraged_group", ("H1", "viewer")))
    assert "Lê Văn An" in encouraged
    assert "Trần Thị Ánh" not in encouraged
    got = await ui.get(f"/dang-vien.xlsx?unit={b1}&category=obliged", ("H1", "viewer"))
    assert got.status_code == 200
    assert got.headers["content-type"].startswith(XLSX)
    sheet = load_workbook(io.BytesIO(got.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Họ và tên"
    assert [r[0] for r in rows[1:]] == ["Trần Thị Ánh", "Phạm Văn Dũng", "Đỗ Văn Đức", "Hoàng Văn Zô"]


async def test_d12_edit_move_and_leave_change_the_member_and_both_units_counts(ui: Ui, mk: Maker) -> None:
    who = ("H1", "editor")
    m = await mk.member("H1B1", full_name="Nguyễn Thị Hoa", birth_year=1970)
    await mk.member("H1B2", full_name="Lò Văn Pấu", birth_year=1975)
    url = f"/dang-vien/{m['id']}"
    page = await ui.page(url, who)
    assert "Sửa thông tin" in page
    assert "Chuyển sinh hoạt" in page
    assert "Rời danh sách" in page
    # A stale or bad edit is refused next to its field, typed values kept.
    bad = await ui.post(f"{url}/sua", who, {**_member(ui, "H1B1", full_name="Nguyễn Thị Hoa", birth_year="1870")})
    assert bad.status_code == 422
    assert 'value="1870"' in bad.text
    assert _error(bad.text, "e-e-birth_year")
    edit = {**_member(ui, "H1B1", full_name="Nguyễn Thị Hoa", birth_year="1970"), "rev": "1"}
    edited = await ui.post(f"{url}/sua", who, {**edit, "obligation": "retired", "post": ""})
    assert edited.status_code == 303, text_of(edited.text)
    assert "Cán bộ nghỉ hưu" in text_of(await ui.page(url, who))
    assert await _counts(ui, "H1B1") == (0, 1)
    stale = await ui.post(f"{url}/sua", who, {**edit, "note": "sửa từ bản cũ"})
    assert stale.status_code == 422
    assert "phiên bản" in text_of(stale.text)
    # Move: both units' counts change in the same write; the member keeps the record (and its essays).
    no_unit = await ui.post(f"{url}/chuyen", who, {"unit": "", "rev": "2"})
    assert no_unit.status_code == 422
    assert "Chọn đơn vị" in _error(no_unit.text, "c-e-unit")
    moved = await ui.post(f"{url}/chuyen", who, {"unit": str(ui.api.id("H1B2")), "rev": "2"})
    assert moved.status_code == 303, text_of(moved.text)
    shown = text_of(await ui.page(url, who))
    assert "Đơn vị Đơn vị H1B2" in shown
    assert await _counts(ui, "H1B1") == (0, 0)
    assert await _counts(ui, "H1B2") == (1, 1)
    # Leave: unconfirmed is refused next to the box; confirmed takes the name off and the count down.
    unconfirmed = await ui.post(f"{url}/roi", who, {"reason": "deceased", "rev": "3"})
    assert unconfirmed.status_code == 422
    assert "xác nhận" in _error(unconfirmed.text, "r-e-confirm")
    assert '<option value="deceased" selected>' in unconfirmed.text
    left = await ui.post(f"{url}/roi", who, {"reason": "deceased", "rev": "3", "confirm": "1"})
    assert left.status_code == 303
    after = text_of(await ui.page(left.headers["location"], who))
    assert "Nguyễn Thị Hoa" not in after
    assert "Lò Văn Pấu" in after
    assert await _counts(ui, "H1B2") == (1, 0)
    assert (await ui.get(url, who)).status_code == 404


async def test_d4_a_sibling_districts_members_are_never_shown_or_editable(ui: Ui, mk: Maker) -> None:
    other = await mk.member("H2B1", full_name="Phạm Thị Riêng", birth_year=1979)
    mine = await mk.member("H1B1", full_name="Nguyễn Văn Mình", birth_year=1979)
    who = ("H1", "admin")
    listed = text_of(await ui.page("/dang-vien", who))
    assert "Nguyễn Văn Mình" in listed
    assert "Phạm Thị Riêng" not in listed
    assert (await ui.get(f"/dang-vien?unit={ui.api.id('H2B1')}", who)).status_code == 403
    assert (await ui.get(f"/dang-vien/{other['id']}", who)).status_code == 404
    assert (await ui.get(f"/dang-vien.xlsx?unit={ui.api.id('H2')}", who)).status_code == 403
    for action, data in (
        ("sua", {**_member(ui, "H2B1", full_name="Đổi Tên"), "rev": "1"}),
        ("chuyen", {"unit": str(ui.api.id("H1B1")), "rev": "1"}),
        ("roi", {"reason": "other", "confirm": "1", "rev": "1"}),
    ):
        refused = await ui.post(f"/dang-vien/{other['id']}/{action}", who, data)
        assert refused.status_code == 404, action
    # Neither can one move one's own member into the sibling's unit, nor add one there.
    moved = await ui.post(f"/dang-vien/{mine['id']}/chuyen", who, {"unit": str(ui.api.id("H2B1")), "rev": "1"})
    assert moved.status_code in (403, 422)
    added = await ui.post("/dang-vien/them", who, _member(ui, "H2B1"))
    assert added.status_code in (403, 422)
    assert "Phạm Thị Riêng" in text_of(await ui.page("/dang-vien", ("H2", "admin")))
    assert "Nguyễn Văn Bình" not in text_of(await ui.page("/dang-vien", ("H2", "admin")))
