"""The consolidated report as .xlsx and .docx: a Party document's layout, Vietnamese numbers and dates (D20, D26)."""

from __future__ import annotations

import datetime as dt
from io import BytesIO
from pathlib import Path

from docx import Document
from openpyxl import load_workbook

from shared.consolidation.export_docx import Letterhead, write_docx
from shared.consolidation.export_xlsx import write_xlsx
from shared.consolidation.service import consolidate
from shared.db.engine import Database
from tests.integration.consolidation_seed import TODAY, info, seed_small


async def test_d20_d26_xlsx_and_docx_of_a_consolidation(db: Database, tmp_path: Path) -> None:
    ids, doc = await seed_small(db)
    async with db.read() as conn:
        result = await consolidate(conn, await info(db, ids["TU"]), doc.id, "preliminary", today=TODAY)

    book = load_workbook(BytesIO(write_xlsx(result, tmp_path / "bang.xlsx")))
    assert book.sheetnames == [
        "Tổng hợp", "Thu hoạch theo đơn vị", "Tuyên truyền", "Chương trình hành động", "Khảo sát", "Báo cáo trễ hạn",
    ]  # fmt: skip
    sheet = book["Tổng hợp"]
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=7, max_row=10)]
    assert [r[0] for r in rows[:2]] == ["H1", "H2"]
    assert rows[3][1] == "TỔNG CỘNG"
    assert rows[3][2:5] == [6, 5, 5 / 6], "numbers stay numbers; Excel shows them in the user's locale"
    assert sheet.cell(10, 5).number_format == "0.0%"
    programmes = [[c.value for c in r] for r in book["Chương trình hành động"].iter_rows(min_row=7, max_row=10)]
    assert programmes[3][1:] == ["TỔNG CỘNG", 3, 3, 5, 3, 2, 0.4, 1], "D14, D15, D18: the hand-counted figures"
    assert (programmes[0][0], programmes[0][2]) == ("H1", 2)
    values = [list(r) for r in book["Khảo sát"].iter_rows(min_row=6, values_only=True)]
    assert values[0][0] == "Phiếu khảo sát: Khảo sát kết quả học tập nghị quyết"
    assert values[1][:6] == ["Mã", "Đơn vị", "Đảng viên", "Cán bộ", "Quần chúng", "Tổng số phiếu"]
    assert values[5][1:6] == ["TỔNG CỘNG", 2, 1, 1, 4], "D22: responses by respondent group"
    choice = next(r for r in values if r[2] == "Chưa rõ")
    assert choice[3:5] == [1, 0.25]
    mean = [r[3] for r in values if r[2] == "Bình quân"]
    assert mean == [3.75, 7.375], "means derived from the added sums and counts"
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
    assert "3 cấp ủy, tổ chức đảng đã xây dựng 3 chương trình hành động" in text, "D14 in the results section"
    assert "3 chỉ tiêu đã báo cáo tiến độ (60%); 2 chỉ tiêu đạt" in text, "D15, D18 in the results section"
    assert "4 phiếu trả lời (đảng viên 2, cán bộ 1, quần chúng 1)" in text, "D22 in the results section"
    results = {row.cells[1].text: row.cells[2].text for t in document.tables for row in t.rows if len(row.cells) == 3}
    assert results["Nắm được nội dung nghị quyết?"] == "Rõ: 3 (75%); Chưa rõ: 1 (25%)"
    assert results["Số buổi sinh hoạt chuyên đề"] == "tổng 29,5, bình quân 7,38"
    assert results["Mức độ chuyển biến"].startswith("bình quân 3,75 điểm")
    by_head = {t.rows[0].cells[2].text: t for t in document.tables if len(t.rows[0].cells) > 2}
    assert by_head["ĐV bắt buộc"].rows[-1].cells[1].text == "Tổng cộng"
    assert [c.text for c in by_head["Chương trình"].rows[-1].cells[1:]] == ["Tổng cộng", "3", "5", "3", "2", "40%", "1"]
    assert [c.text for c in by_head["Đảng viên"].rows[-1].cells[1:]] == ["Tổng cộng", "2", "1", "1", "4"]
    assert document.sections[-1].orientation == 1, "the appendix is on a landscape page"
