"""The consolidated tables as .xlsx (openpyxl): numbers as numbers, dates as dates shown dd/mm/yyyy."""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from shared.consolidation.labels import cut_off_line, review_title
from shared.domain.consolidation import (
    BANDS,
    CHANNEL_LABELS_VI,
    CHANNELS,
    GROUP_LABELS_VI,
    Consolidation,
    Figures,
    QuestionnaireFigures,
)
from shared.domain.formatting import format_date

_BOLD = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDE6F0")
_THIN = Side(style="thin", color="888888")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_INT = "#,##0"
_RATE = "0.0%"


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _essay_cells(f: Figures) -> list[Any]:
    e = f.essays
    return [
        e.obliged.members,
        e.obliged.wrote,
        _rate(e.obliged.wrote, e.obliged.members),
        *[e.obliged.band(b) for b in BANDS],
        e.encouraged.members,
        e.encouraged.wrote,
        _rate(e.encouraged.wrote, e.encouraged.members),
        *[e.encouraged.band(b) for b in BANDS],
        e.rewrites_open,
        e.obliged.rewritten + e.encouraged.rewritten,
    ]


_ESSAY_HEAD = [
    "Bắt buộc: số đảng viên",
    "Bắt buộc: đã viết",
    "Bắt buộc: tỷ lệ",
    *[f"Bắt buộc: {b}" for b in BANDS],
    "Khuyến khích: số đảng viên",
    "Khuyến khích: đã viết",
    "Khuyến khích: tỷ lệ",
    *[f"Khuyến khích: {b}" for b in BANDS],
    "Yếu chưa viết lại",
    "Đã viết lại",
]
_RATE_COLUMNS = {
    "Bắt buộc: tỷ lệ",
    "Khuyến khích: tỷ lệ",
    "Tỷ lệ tham dự",
    "Tỷ lệ đầy đủ",
    "Tỷ lệ đúng hạn",
    "Tỷ lệ chỉ tiêu đạt",
    "Tỷ lệ trên số trả lời câu hỏi",
}


def _table(ws: Worksheet, start: int, head: Sequence[str], rows: Sequence[Sequence[Any]], total_rows: int = 0) -> int:
    for col, title in enumerate(head, 1):
        cell = ws.cell(start, col, title)
        cell.font, cell.fill, cell.border = _BOLD, _HEAD_FILL, _BOX
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    ws.row_dimensions[start].height = 45
    for r, values in enumerate(rows, start + 1):
        for col, value in enumerate(values, 1):
            cell = ws.cell(r, col, value)
            cell.border = _BOX
            if head[col - 1] in _RATE_COLUMNS:
                cell.number_format = _RATE
            elif isinstance(value, int):
                cell.number_format = _INT
            if r > start + len(rows) - total_rows:
                cell.font = _BOLD
    return start + len(rows) + 2


def _heading(ws: Worksheet, c: Consolidation, title: str) -> int:
    ws.cell(1, 1, c.top.name.upper()).font = _BOLD
    ws.cell(2, 1, title).font = Font(bold=True, size=13)
    ws.cell(3, 1, review_title(c))
    ws.cell(4, 1, cut_off_line(c) + f"; lập ngày {format_date(c.today)}.")
    return 6


def _widths(ws: Worksheet, widths: Sequence[float]) -> None:
    for i, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = w


def build_workbook(c: Consolidation) -> Workbook:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Tổng hợp"
    row = _heading(ws, c, "BẢNG TỔNG HỢP SỐ LIỆU")
    head = [
        "Mã",
        "Đơn vị",
        *_ESSAY_HEAD,
        "Buổi học tập",
        "Lượt mời",
        "Lượt dự",
        "Tỷ lệ tham dự",
        "Hoạt động tuyên truyền",
        "Lượt người được tuyên truyền",
        "Báo cáo phải nộp",
        "Đã nộp",
        "Đúng hạn",
        "Trễ hạn",
        "Quá hạn chưa nộp",
        "Tỷ lệ đầy đủ",
        "Tỷ lệ đúng hạn",
    ]

    def line(code: str, name: str, f: Figures) -> list[Any]:
        s, p, r = f.study, f.propaganda.total, f.reports
        return [
            code,
            name,
            *_essay_cells(f),
            s.sessions,
            s.invited,
            s.attended,
            _rate(s.attended, s.invited),
            p.activities,
            p.reached,
            r.expected,
            r.received,
            r.on_time,
            r.late,
            r.overdue,
            _rate(r.received, r.expected),
            _rate(r.on_time, r.expected),
        ]

    rows = [line(r.unit.code, r.unit.name, r.figures) for r in c.children]
    rows.append(line(c.top.code, f"{c.top.name} (trực tiếp)", c.own))
    rows.append(["", "TỔNG CỘNG", *line("", "", c.figures)[2:]])
    after = _table(ws, row, head, rows, total_rows=1)
    ws.cell(after, 1, "Tổng cộng = dòng của cấp mình + tổng các đơn vị trực thuộc (D26).").font = Font(italic=True)
    ws.freeze_panes = ws.cell(row + 1, 3)
    _widths(ws, [12, 42, *[11] * (len(head) - 2)])

    ws = wb.create_sheet("Thu hoạch theo đơn vị")
    row = _heading(ws, c, "BÀI THU HOẠCH THEO ĐƠN VỊ CÓ DANH SÁCH ĐẢNG VIÊN")
    _table(ws, row, ["Mã", "Đơn vị", "Cấp", *_ESSAY_HEAD], [
        [r.unit.code, r.unit.name, r.unit.level, *_essay_cells(r.figures)] for r in c.bases
    ])  # fmt: skip
    ws.freeze_panes = ws.cell(row + 1, 3)
    _widths(ws, [14, 42, 12, *[11] * len(_ESSAY_HEAD)])

    ws = wb.create_sheet("Tuyên truyền")
    row = _heading(ws, c, "TUYÊN TRUYỀN THEO KÊNH (D9)")
    head = ["Mã", "Đơn vị"]
    for ch in CHANNELS:
        head += [f"{CHANNEL_LABELS_VI[ch]}: hoạt động", f"{CHANNEL_LABELS_VI[ch]}: lượt người"]
    prop_rows = []
    for code, name, f in [
        *[(r.unit.code, r.unit.name, r.figures) for r in c.children],
        (c.top.code, f"{c.top.name} (trực tiếp)", c.own),
        ("", "TỔNG CỘNG", c.figures),
    ]:
        cells: list[Any] = [code, name]
        for ch in CHANNELS:
            cells += [f.propaganda.channel(ch).activities, f.propaganda.channel(ch).reached]
        prop_rows.append(cells)
    _table(ws, row, head, prop_rows, total_rows=1)
    _widths(ws, [12, 42, *[14] * (len(head) - 2)])

    _programme_sheet(wb, c)
    _survey_sheet(wb, c)

    ws = wb.create_sheet("Báo cáo trễ hạn")
    row = _heading(
        ws, c, f"ĐƠN VỊ TỔ CHỨC {c.kind_vi.upper()} MUỘN HOẶC QUÁ HẠN CHƯA TỔ CHỨC, CHƯA CÓ BÁO CÁO (D21, D25b)"
    )
    late_rows = [
        [i.unit.code, i.unit.name, i.unit.level, i.due, i.held_on, i.status.value]
        for i in c.late
    ]  # fmt: skip
    _table(ws, row, ["Mã", "Đơn vị", "Cấp", "Hạn", "Ngày tổ chức", "Tình trạng"], late_rows)
    for r in range(row + 1, row + 1 + len(late_rows)):
        for col in (4, 5):
            ws.cell(r, col).number_format = "dd/mm/yyyy"
    _widths(ws, [14, 42, 14, 12, 12, 20])
    return wb


def _by_unit(c: Consolidation) -> list[tuple[str, str, Figures]]:
    return [
        *[(r.unit.code, r.unit.name, r.figures) for r in c.children],
        (c.top.code, f"{c.top.name} (trực tiếp)", c.own),
        ("", "TỔNG CỘNG", c.figures),
    ]


def _programme_sheet(wb: Workbook, c: Consolidation) -> None:
    ws = wb.create_sheet("Chương trình hành động")
    row = _heading(ws, c, "CHƯƠNG TRÌNH HÀNH ĐỘNG VÀ CHỈ TIÊU (D14, D15, D18)")
    head = [
        "Mã",
        "Đơn vị",
        "Chương trình, kế hoạch",
        "Đơn vị đã xây dựng",
        "Chỉ tiêu",
        "Đã báo cáo tiến độ",
        "Đạt",
        "Tỷ lệ chỉ tiêu đạt",
        "Quá hạn chưa đạt",
    ]
    rows = [
        [code, name, p.programmes, p.units, p.targets, p.reported, p.met, _rate(p.met, p.targets), p.overdue]
        for code, name, p in ((code, name, f.programmes) for code, name, f in _by_unit(c))
    ]
    after = _table(ws, row, head, rows, total_rows=1)
    ws.cell(
        after, 1, "Đạt: giá trị báo cáo gần nhất đến ngày chốt số liệu đạt chỉ tiêu theo hướng từ số liệu gốc."
    ).font = Font(italic=True)
    _widths(ws, [12, 42, *[13] * (len(head) - 2)])


def _survey_sheet(wb: Workbook, c: Consolidation) -> None:
    ws = wb.create_sheet("Khảo sát")
    row = _heading(ws, c, "KẾT QUẢ KHẢO SÁT (D22)")
    if not c.figures.surveys.questionnaires:
        ws.cell(row, 1, "Chưa có phiếu khảo sát nào được trả lời đến ngày chốt số liệu.").font = Font(italic=True)
    for qid, q in c.figures.surveys.ordered():
        ws.cell(row, 1, f"Phiếu khảo sát: {q.title}").font = Font(bold=True, size=12)
        units = []
        for code, name, f in _by_unit(c):
            mine = f.surveys.questionnaires.get(qid)
            counts = [mine.group(g) if mine else 0 for g in GROUP_LABELS_VI]
            units.append([code, name, *counts, sum(counts)])
        row = _table(ws, row + 1, ["Mã", "Đơn vị", *GROUP_LABELS_VI.values(), "Tổng số phiếu"], units, total_rows=1)
        row = _table(ws, row, ["Câu", "Câu hỏi", "Phương án / chỉ số", "Số lượt", "Tỷ lệ trên số trả lời câu hỏi"],
                     _question_rows(q))  # fmt: skip
    _widths(ws, [12, 42, 28, 12, 14, 14])


def _question_rows(q: QuestionnaireFigures) -> list[list[Any]]:
    """Counts per option or point; for numbers the sum and the mean (derived here, never added up)."""
    rows: list[list[Any]] = []
    for f in q.questions:
        rows.append([f.key, f.text, "Số người trả lời", f.answered, None])
        for option, n in f.counts.items():
            label = f"{option} điểm" if f.kind == "scale" else option
            rows.append(["", "", label, n, _rate(n, f.answered)])
        if f.kind in ("scale", "number"):
            rows.append(["", "", "Tổng giá trị", float(f.total), None])
            rows.append(["", "", "Bình quân", float(f.mean) if f.mean is not None else None, None])
    return rows


def write_xlsx(c: Consolidation, path: Path | None = None) -> bytes:
    """The workbook's bytes; also written to `path` when given."""
    buffer = BytesIO()
    build_workbook(c).save(buffer)
    data = buffer.getvalue()
    if path is not None:
        path.write_bytes(data)
    return data
