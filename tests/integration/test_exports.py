"""The consolidated report as .xlsx and .docx: a Party document's layout, Vietnamese numbers and dates (D20, D26)."""

from __future__ import annotations

import datetime as dt
from io import BytesIO
from pathlib import Path

from docx import Document
from openpyxl import load_workbook

from shared.db.engine import Database
from shared.reports.consolidate import consolidate
from shared.reports.export_docx import Letterhead, write_docx
from shared.reports.export_xlsx import write_xlsx
from tests.integration.test_consolidation import TODAY, info, seed_small


async def test_d20_d26_xlsx_and_docx_of_a_consolidation(db: Database, tmp_path: Path) -> None:
    ids, doc = await seed_small(db)
    async with db.read() as conn:
        result = await consolidate(conn, await info(db, ids["TU"]), doc.id, "preliminary", today=TODAY)

    book = load_workbook(BytesIO(write_xlsx(result, tmp_path / "bang.xlsx")))
    assert book.sheetnames == ["Tổng hợp", "Thu hoạch theo đơn vị", "Tuyên truyền", "Báo cáo trễ hạn"]
    sheet = book["Tổng hợp"]
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=7, max_row=10)]
    assert [r[0] for r in rows[:2]] == ["H1", "H2"]
    assert rows[3][1] == "TỔNG CỘNG"
    assert rows[3][2:5] == [6, 5, 5 / 6], "numbers stay numbers; Excel shows them in the user's locale"
    assert sheet.cell(10, 5).number_format == "0.0%"
    late = book["Báo cáo trễ hạn"]
    assert isinstance(late.cell(7, 4).value, dt.datetime)
    assert late.cell(7, 4).number_format == "dd/mm/yyyy"

    path = tmp_path / "bao-cao.docx"
    write_docx(result, path, Letterhead(place="Mẫu", number="125"))
    document = Document(str(path))
    header = document.tables[0]
    left, right = (cell.text for cell in header.rows[0].cells)
    assert "TỈNH ỦY MẪU" in left
    assert "Số 125-BC/TU" in left
    assert right.startswith("ĐẢNG CỘNG SẢN VIỆT NAM")
    assert "Mẫu, ngày 10 tháng 01 năm 2025" in right
    text = "\n".join(p.text for p in document.paragraphs)
    for heading in ("BÁO CÁO", "I. KẾT QUẢ", "II. ĐÁNH GIÁ CHUNG", "III. BÀI HỌC KINH NGHIỆM",
                    "IV. PHƯƠNG HƯỚNG", "V. ĐỀ XUẤT, KIẾN NGHỊ", "PHỤ LỤC"):  # fmt: skip
        assert heading in text, heading
    assert "20/12/2024" in text, "dates are dd/mm/yyyy"
    assert "đã viết 5 (83,3%)" in text, "decimal comma (D13 formatting)"
    assert "chưa có dữ liệu" in text, "programmes and surveys are shown as not yet available, not invented"
    appendix = document.tables[-2]
    assert appendix.rows[-1].cells[1].text == "Tổng cộng"
    assert document.sections[-1].orientation == 1, "the appendix is on a landscape page"
