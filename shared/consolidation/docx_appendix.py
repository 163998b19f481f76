"""The .docx report's landscape appendix: every section per child unit, essays per base unit, programmes and
surveys per unit, late and overdue reports."""

from __future__ import annotations

from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm

from shared.consolidation.docx_parts import (
    _figures_table,
    _n,
    _para,
)
from shared.consolidation.labels import (
    KIND_TITLE,
)
from shared.domain.consolidation import (
    BANDS,
    GROUP_LABELS_VI,
    Consolidation,
    Figures,
)
from shared.domain.formatting import format_date


def _appendix(doc: DocxDocument, c: Consolidation) -> None:
    section = doc.add_section()
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    section.left_margin, section.right_margin, section.top_margin, section.bottom_margin = Cm(2), Cm(1.5), Cm(2), Cm(2)
    _para(doc, "PHỤ LỤC", align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, after=0)
    _para(
        doc,
        f"Số liệu tổng hợp theo đơn vị trực thuộc, tính đến ngày {format_date(c.cut_off)}",
        align=WD_ALIGN_PARAGRAPH.CENTER,
        italic=True,
        after=0,
    )
    _para(
        doc,
        f"(Kèm theo Báo cáo {KIND_TITLE[c.kind].lower()} {c.document_number})",
        align=WD_ALIGN_PARAGRAPH.CENTER,
        italic=True,
        after=8,
    )
    head = [
        "TT",
        "Đơn vị",
        "ĐV bắt buộc",
        "Đã viết",
        "Tỷ lệ",
        "ĐV khuyến khích",
        "Đã viết",
        *[str(b) for b in BANDS],
        "Yếu chưa viết lại",
        "Buổi học tập",
        "Lượt dự",
        "Hoạt động tuyên truyền",
        "Báo cáo đã nộp/phải có",
        "Đúng hạn",
    ]

    def row(label: str, f: Figures) -> list[str]:
        e, s, r = f.essays, f.study, f.reports
        return [
            label,
            _n(e.obliged.members),
            _n(e.obliged.wrote),
            e.obliged.rate,
            _n(e.encouraged.members),
            _n(e.encouraged.wrote),
            *[_n(e.band(b)) for b in BANDS],
            _n(e.rewrites_open),
            _n(s.sessions),
            _n(s.attended),
            _n(f.propaganda.total.activities),
            f"{_n(r.received)}/{_n(r.expected)}",
            _n(r.on_time),
        ]

    rows = [[str(i + 1), *row(r.unit.name, r.figures)] for i, r in enumerate(c.children)]
    rows.append(["", *row(f"{c.top.name} (trực tiếp)", c.own)])
    rows.append(["", *row("Tổng cộng", c.figures)])
    widths = [1.0, 4.6, 1.5, 1.4, 1.4, 1.6, 1.3, 1.2, 1.2, 1.4, 1.2, 1.5, 1.3, 1.3, 1.6, 1.7, 1.3]
    _figures_table(doc, head, rows, widths, size=9)
    _para(
        doc,
        "Tổng cộng = dòng của cấp mình + tổng các đơn vị trực thuộc (D26). Tỷ lệ viết bài tính trên số đảng "
        "viên theo danh sách do đơn vị giữ danh sách báo cáo (D12).",
        italic=True,
        size=11,
    )
    _appendix_programmes(doc, c)
    _appendix_surveys(doc, c)
    if c.late:
        _para(
            doc,
            f"Đơn vị tổ chức {c.kind_vi.lower()} muộn hoặc quá hạn chưa tổ chức, chưa có báo cáo",
            bold=True,
            indent=False,
        )
        late_rows = [
            [
                str(i + 1),
                item.unit.name,
                format_date(item.due),
                format_date(item.held_on) if item.held_on else "—",
                item.status.value,
            ]
            for i, item in enumerate(c.late[:60])
        ]
        _figures_table(
            doc,
            ["TT", "Đơn vị", "Hạn", "Ngày tổ chức", "Tình trạng"],
            late_rows,
            [1, 12, 3, 3, 5],
            size=10,
            bold_last=False,
        )
        if len(c.late) > 60:
            _para(doc, f"… và {_n(len(c.late) - 60)} đơn vị khác (xem tệp Excel).", italic=True)


def _by_unit(c: Consolidation) -> list[tuple[str, Figures]]:
    return [
        *((r.unit.name, r.figures) for r in c.children),
        (f"{c.top.name} (trực tiếp)", c.own),
        ("Tổng cộng", c.figures),
    ]


def _appendix_programmes(doc: DocxDocument, c: Consolidation) -> None:
    if not c.figures.programmes.programmes:
        return
    _para(doc, "Chương trình hành động và chỉ tiêu (D14, D15, D18)", bold=True, indent=False)
    rows = []
    for label, f in _by_unit(c):
        p = f.programmes
        rows.append([label, _n(p.programmes), _n(p.targets), _n(p.reported), _n(p.met), p.met_rate, _n(p.overdue)])
    numbered = [[str(i + 1) if i < len(c.children) else "", *r] for i, r in enumerate(rows)]
    head = ["TT", "Đơn vị", "Chương trình", "Chỉ tiêu", "Đã báo cáo tiến độ", "Đạt", "Tỷ lệ đạt", "Quá hạn chưa đạt"]
    _figures_table(doc, head, numbered, [1.0, 8.0, 2.4, 2.2, 2.6, 2.0, 2.2, 2.6], size=10)


def _appendix_surveys(doc: DocxDocument, c: Consolidation) -> None:
    for qid, q in c.figures.surveys.ordered():
        _para(doc, f"Phiếu trả lời khảo sát «{q.title}» theo đơn vị (D22)", bold=True, indent=False)
        rows = []
        for label, f in _by_unit(c):
            mine = f.surveys.questionnaires.get(qid)
            counts = [mine.group(g) if mine else 0 for g in GROUP_LABELS_VI]
            rows.append([label, *map(_n, counts), _n(sum(counts))])
        numbered = [[str(i + 1) if i < len(c.children) else "", *r] for i, r in enumerate(rows)]
        head = ["TT", "Đơn vị", *GROUP_LABELS_VI.values(), "Tổng số phiếu"]
        _figures_table(doc, head, numbered, [1.0, 9.0, 2.8, 2.8, 2.8, 3.0], size=10)
