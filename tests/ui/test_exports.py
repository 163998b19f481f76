"""Every list page offers its rows as .xlsx with the page's own filters (issue 12), within the viewer's scope (D4)."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook

from tests.domain_harness import Maker
from tests.ui.conftest import Ui

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _rows(ui: Ui, url: str, who: tuple[str, str]) -> list[tuple[Any, ...]]:
    got = await ui.get(url, who)
    assert got.status_code == 200, (url, got.status_code)
    assert got.headers["content-type"].startswith(XLSX)
    assert "attachment" in got.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(got.content)).active
    assert sheet is not None
    return list(sheet.iter_rows(values_only=True))


async def test_each_list_page_links_its_xlsx_and_the_file_holds_the_scoped_rows(ui: Ui, mk: Maker) -> None:
    doc = await mk.doc("TU", number="15-NQ/TU")
    own = await mk.doc("H1", number="05-NQ/HU")
    await mk.doc("H2", number="07-NQ/HU")
    await mk.session("H1B1", doc)
    await mk.session("H2B1", doc)
    await mk.propaganda("H1B1")
    m = await mk.member("H1B1", full_name="Nguyễn Văn An", birth_year=1980)
    await mk.essay("H1B1", m, doc, "4,5")
    who = ("H1", "viewer")
    pages = {
        "/van-ban": "/van-ban.xlsx",
        "/don-vi": "/don-vi.xlsx",
        "/hoc-tap": "/hoc-tap/buoi-hoc.xlsx",
        "/dang-vien": "/dang-vien.xlsx",
        f"/bai-thu-hoach?document={doc['id']}": "/bai-thu-hoach.xlsx",
        f"/bao-cao?document={own['id']}": "/bao-cao.xlsx",
        "/chuong-trinh": "/chuong-trinh.xlsx",
        "/khao-sat": "/khao-sat.xlsx",
    }
    for page, export in pages.items():
        assert f'href="{export}' in await ui.page(page, who), f"{page} has no .xlsx link"

    docs = await _rows(ui, "/van-ban.xlsx", who)
    numbers = {r[0] for r in docs[1:]}
    assert {"15-NQ/TU", "05-NQ/HU"} <= numbers
    assert "07-NQ/HU" not in numbers, "D4: a sibling district's document is not exported"
    assert docs[0][:3] == ("Số, ký hiệu", "Trích yếu", "Ngày ký")
    found = await _rows(ui, "/van-ban.xlsx?number=15-NQ%2FTU", who)
    assert [r[0] for r in found[1:]] == ["15-NQ/TU"]

    units = await _rows(ui, "/don-vi.xlsx", who)
    assert {r[0] for r in units[1:]} == {"H1", "H1B1", "H1B2", "H1B1C1"}

    sessions = await _rows(ui, "/hoc-tap/buoi-hoc.xlsx", who)
    assert len(sessions) == 2, "only H1's subtree"
    assert sessions[1][3] == "Đơn vị H1B1"
    assert sessions[1][4] == "15-NQ/TU"
    assert sessions[1][6:] == (100, 95)
    propaganda = await _rows(ui, "/hoc-tap/tuyen-truyen.xlsx", who)
    assert propaganda[1][5:7] == (12, 5000)

    essays = await _rows(ui, f"/bai-thu-hoach.xlsx?document={doc['id']}", who)
    assert essays[1][0].endswith("(toàn đơn vị)")
    assert essays[1][1:3] == (1, 1)
    assert essays[1][-2:] == (1, 1), "one Yếu, one rewrite owed (D13)"

    reports = await _rows(ui, f"/bao-cao.xlsx?document={own['id']}", who)
    assert reports[0][:4] == ("Mã", "Đơn vị", "Hạn", "Tình trạng")
