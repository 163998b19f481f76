"""The review report as .docx (python-docx), laid out as a Party document (Hướng dẫn 36-HD/VPTW style).

Header: the issuing body on the left with its number `Số    -BC/TU`, "ĐẢNG CỘNG SẢN VIỆT NAM" on the right over the
place-and-date line; then the title, the usual sections of a sơ kết / tổng kết report with the figures in tables,
the addressees and signature block, and an appendix of figures per unit on a landscape page. Numbers are written
the Vietnamese way (1.234; 87,5%) and dates dd/mm/yyyy.

The narrative (assessment, lessons, directions, proposals) is the lead agency's to write (D23, D24): this file
states what the figures show and leaves marked places for that text.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from shared.consolidation.docx_appendix import _appendix
from shared.consolidation.docx_parts import FONT, _cell_text, _figures_table, _n, _no_borders, _para
from shared.consolidation.labels import (
    FORM_LABELS_VI,
    KIND_TITLE,
    document_name,
    groups_vi,
    issuer_suffix,
    question_result_vi,
)
from shared.domain.consolidation import (
    BANDS,
    CHANNEL_LABELS_VI,
    CHANNELS,
    Consolidation,
    Figures,
)
from shared.domain.formatting import format_date, format_percent

TO_FILL = "(Cơ quan chủ trì tham mưu bổ sung khi hoàn thiện dự thảo báo cáo — D23, D24.)"


@dataclass(frozen=True, slots=True)
class Letterhead:
    """What the office fills in: the body above the issuer, the place, the number once issued, the signer."""

    parent_body: str = "ĐẢNG BỘ TỈNH MẪU"
    place: str = "Mẫu"
    number: str | None = None
    """Only the number, e.g. `125`; left blank until the report is issued."""
    signer_title: str = "BÍ THƯ"
    signer_name: str = ""
    years: int | None = None
    """The span in the title (`Sơ kết 3 năm`), when the review has one."""


def _header(doc: DocxDocument, c: Consolidation, lh: Letterhead) -> None:
    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    left, right = table.rows[0].cells
    left.width, right.width = Cm(7.5), Cm(9.0)
    _cell_text(left, lh.parent_body.upper(), size=13)
    _cell_text(left, c.top.name.upper(), bold=True, size=13)
    _cell_text(left, "*", size=13)
    number = lh.number if lh.number else "\u00a0" * 6
    _cell_text(left, f"Số {number}-BC/{issuer_suffix(c.top.depth)}", size=13)
    _cell_text(right, "ĐẢNG CỘNG SẢN VIỆT NAM", bold=True, size=14, underline=True)
    _cell_text(right, "")
    day = c.today
    _cell_text(right, f"{lh.place}, ngày {day.day:02d} tháng {day.month:02d} năm {day.year}", italic=True, size=14)
    _para(doc, after=12)


def _title(doc: DocxDocument, c: Consolidation, lh: Letterhead) -> None:
    _para(doc, "BÁO CÁO", align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, size=15, after=0)
    span = f" {lh.years} năm" if lh.years else ""
    _para(
        doc,
        f"{KIND_TITLE[c.kind]}{span} thực hiện {document_name(c.document_number)}",
        align=WD_ALIGN_PARAGRAPH.CENTER,
        bold=True,
        after=0,
    )
    _para(doc, c.document_title, align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, after=0)
    _para(doc, "-----", align=WD_ALIGN_PARAGRAPH.CENTER, after=12)


def _heading(doc: DocxDocument, text: str) -> None:
    _para(doc, text, bold=True, indent=True, after=6)


def _essay_rows(c: Consolidation) -> list[list[str]]:
    rows = []
    for label, f in [*((r.unit.name, r.figures) for r in c.children), (f"{c.top.name} (trực tiếp)", c.own)]:
        if f.essays.wrote == 0 and f.essays.obliged.members == 0:
            continue
        rows.append(_essay_row(label, f))
    rows.append(_essay_row("Tổng cộng", c.figures))
    return [[str(i + 1) if i < len(rows) - 1 else "", *r] for i, r in enumerate(rows)]


def _essay_row(label: str, f: Figures) -> list[str]:
    e = f.essays
    return [
        label,
        _n(e.obliged.members),
        _n(e.obliged.wrote),
        e.obliged.rate,
        *[_n(e.band(b)) for b in BANDS],
        _n(e.rewrites_open),
    ]


def _results(doc: DocxDocument, c: Consolidation) -> None:
    f = c.figures
    _heading(doc, "I. KẾT QUẢ HỌC TẬP, QUÁN TRIỆT VÀ TỔ CHỨC THỰC HIỆN")
    _heading(doc, "1. Công tác học tập, quán triệt (D8)")
    s = f.study
    _para(
        doc,
        f"Toàn {_scope(c)} đã tổ chức {_n(s.sessions)} hội nghị, buổi học tập, quán triệt {c.document_number} với "
        f"{_n(s.attended)}/{_n(s.invited)} lượt cán bộ, đảng viên tham dự, đạt {s.attendance} số được triệu tập.",
    )
    if s.sessions:
        rows = [[FORM_LABELS_VI.get(k, k), _n(v)] for k, v in sorted(s.by_form.items())]
        rows.append(["Tổng số buổi", _n(s.sessions)])
        _figures_table(doc, ["Hình thức", "Số buổi"], rows, [8, 4], bold_last=True)
    _heading(doc, "2. Công tác tuyên truyền (D9)")
    p = f.propaganda.total
    _para(
        doc,
        f"Đã thực hiện {_n(p.activities)} hoạt động tuyên truyền trên các kênh, tiếp cận khoảng {_n(p.reached)} "
        "lượt cán bộ, đảng viên và Nhân dân.",
    )
    channels = [f.propaganda.channel(ch) for ch in CHANNELS]
    rows = [
        [str(i + 1), CHANNEL_LABELS_VI[ch], _n(cf.activities), _n(cf.reached)]
        for i, (ch, cf) in enumerate(zip(CHANNELS, channels, strict=True))
    ]
    rows.append(["", "Tổng cộng", _n(p.activities), _n(p.reached)])
    _figures_table(doc, ["TT", "Kênh tuyên truyền", "Số hoạt động", "Lượt người"], rows, [1.2, 8.5, 3, 3.3])
    _heading(doc, "3. Viết bài thu hoạch cá nhân (D10–D13)")
    e = f.essays
    _para(
        doc,
        f"Số đảng viên thuộc diện bắt buộc viết: {_n(e.obliged.members)}, đã viết {_n(e.obliged.wrote)} "
        f"({e.obliged.rate}); chưa viết {_n(e.shortfall)}. Đảng viên thuộc diện khuyến khích (miễn sinh hoạt, "
        f"sức khỏe, trên 60 tuổi, nghỉ hưu, chi bộ nông thôn không giữ chức vụ): {_n(e.encouraged.members)}, "
        f"đã viết {_n(e.encouraged.wrote)} ({e.encouraged.rate}). Kết quả theo lần viết gần nhất: "
        + "; ".join(f"{b} {_n(e.band(b))} ({format_percent(e.band(b), e.wrote)})" for b in BANDS)
        + f". Còn {_n(e.rewrites_open)} bài xếp loại Yếu chưa viết lại đạt yêu cầu; "
        f"{_n(e.obliged.rewritten + e.encouraged.rewritten)} đảng viên đã viết lại.",
    )
    _figures_table(
        doc,
        ["TT", "Đơn vị", "Bắt buộc", "Đã viết", "Tỷ lệ", *[str(b) for b in BANDS], "Yếu chưa viết lại"],
        _essay_rows(c),
        [0.9, 5.2, 1.6, 1.6, 1.4, 1.3, 1.3, 1.5, 1.2, 1.4],
        size=10,
    )
    _programmes(doc, c)
    _surveys(doc, c)
    _heading(doc, "6. Báo cáo của các cấp (D21, D25b)")
    r = f.reports
    _para(
        doc,
        f"Có {_n(r.expected)} báo cáo {KIND_TITLE[c.kind].lower()} phải có (kể cả của cấp mình); đã nhận "
        f"{_n(r.received)} ({r.completeness}), đúng hạn {_n(r.on_time)} ({r.timeliness}), trễ hạn {_n(r.late)}, "
        f"quá hạn chưa nộp {_n(r.overdue)}.",
    )


def _opened(doc: DocxDocument, c: Consolidation, heading: str, present: int, none_yet: str) -> bool:
    """A section's heading; when it has nothing yet, the sentence that says so as of the cut-off (False then)."""
    _heading(doc, heading)
    if not present:
        _para(doc, f"Đến ngày {format_date(c.cut_off)} chưa có {none_yet}.")
    return bool(present)


def _programmes(doc: DocxDocument, c: Consolidation) -> None:
    p = c.figures.programmes
    heading = "4. Xây dựng chương trình hành động, kế hoạch thực hiện (D14, D15, D18)"
    if not _opened(doc, c, heading, p.programmes, "chương trình hành động nào được ban hành"):
        return
    _para(
        doc,
        f"Có {_n(p.units)} cấp ủy, tổ chức đảng đã xây dựng {_n(p.programmes)} chương trình hành động, kế hoạch thực "
        f"hiện {c.document_number} với {_n(p.targets)} chỉ tiêu định lượng. Đến ngày {format_date(c.cut_off)}, "
        f"{_n(p.reported)} chỉ tiêu đã báo cáo tiến độ ({p.reporting_rate}); {_n(p.met)} chỉ tiêu đạt theo số liệu "
        f"báo cáo gần nhất ({p.met_rate}); {_n(p.overdue)} chỉ tiêu đã quá thời hạn mà chưa đạt.",
    )


def _surveys(doc: DocxDocument, c: Consolidation) -> None:
    s = c.figures.surveys
    if not _opened(doc, c, "5. Khảo sát thực tiễn (D22)", s.responses, "phiếu khảo sát nào được trả lời"):
        return
    for _, q in s.ordered():
        _para(
            doc,
            f"Khảo sát «{q.title}»: {_n(q.responses)} phiếu trả lời ({groups_vi(q.by_group)}). Kết quả theo từng câu "
            "hỏi (tỷ lệ trên số người trả lời câu đó):",
        )
        rows = [[str(i + 1), f.text, question_result_vi(f)] for i, f in enumerate(q.questions)]
        _figures_table(doc, ["TT", "Câu hỏi", "Kết quả"], rows, [1.0, 6.5, 8.5], size=10, bold_last=False)


def _scope(c: Consolidation) -> str:
    return "tỉnh" if c.top.depth == 0 else "đảng bộ"


def _assessment(doc: DocxDocument, c: Consolidation) -> None:
    f = c.figures
    e = f.essays
    _heading(doc, "II. ĐÁNH GIÁ CHUNG")
    _heading(doc, "1. Ưu điểm")
    good = e.band(BANDS[0]) + e.band(BANDS[1])
    _para(
        doc,
        f"Việc học tập, quán triệt được tổ chức với tỷ lệ tham dự {f.study.attendance}; "
        f"{e.obliged.rate} đảng viên thuộc diện bắt buộc đã viết bài thu hoạch, trong đó "
        f"{format_percent(good, e.wrote)} bài đạt loại Khá trở lên.",
    )
    _para(doc, TO_FILL, italic=True)
    _heading(doc, "2. Hạn chế, khuyết điểm và nguyên nhân")
    weak = [r for r in c.children if r.figures.essays.rewrites_open]
    weak.sort(key=lambda r: -r.figures.essays.rewrites_open)
    text = (
        f"Còn {_n(e.shortfall)} đảng viên thuộc diện bắt buộc chưa viết bài thu hoạch và "
        f"{_n(e.rewrites_open)} bài Yếu chưa viết lại"
    )
    if weak:
        text += (
            " (nhiều nhất ở: "
            + ", ".join(f"{r.unit.name} {_n(r.figures.essays.rewrites_open)}" for r in weak[:3])
            + ")"
        )
    text += f"; {_n(f.reports.late + f.reports.overdue)} báo cáo trễ hạn hoặc chưa nộp."
    _para(doc, text)
    _para(doc, TO_FILL, italic=True)


def _rest(doc: DocxDocument, c: Consolidation) -> None:
    f = c.figures
    _heading(doc, "III. BÀI HỌC KINH NGHIỆM")
    _para(doc, TO_FILL, italic=True)
    _heading(doc, "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI")
    _para(
        doc,
        f"- Chỉ đạo hoàn thành việc viết lại {_n(f.essays.rewrites_open)} bài thu hoạch xếp loại Yếu cho đến khi đạt "
        f"loại Trung bình trở lên; đôn đốc {_n(f.essays.shortfall)} đảng viên thuộc diện bắt buộc chưa viết.",
    )
    if f.programmes.overdue:
        _para(
            doc,
            f"- Chỉ đạo khắc phục {_n(f.programmes.overdue)} chỉ tiêu của chương trình hành động đã quá thời hạn mà "
            "chưa đạt; báo cáo tiến độ từng chỉ tiêu ít nhất mỗi năm một lần (D18).",
        )
    _para(
        doc,
        f"- Đôn đốc {_n(f.reports.overdue)} đơn vị chưa nộp báo cáo {KIND_TITLE[c.kind].lower()} hoàn thành "
        "và gửi về cấp trên.",
    )
    _para(doc, TO_FILL, italic=True)
    _heading(doc, "V. ĐỀ XUẤT, KIẾN NGHỊ")
    _para(doc, TO_FILL, italic=True)


def _signature(doc: DocxDocument, c: Consolidation, lh: Letterhead) -> None:
    _para(doc, after=6)
    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    left, right = table.rows[0].cells
    left.width, right.width = Cm(8), Cm(8.5)
    _cell_text(left, "Nơi nhận:", bold=True, italic=True, size=12, align=WD_ALIGN_PARAGRAPH.LEFT)
    recipients = (
        ("- Ban Bí thư Trung ương Đảng (để b/c),", "- Văn phòng Trung ương Đảng (để b/c),")
        if c.top.depth == 0
        else ("- Cấp ủy cấp trên (để b/c),",)
    )
    for line in (*recipients, "- Các đảng bộ, tổ chức đảng trực thuộc,", "- Lưu Văn phòng."):
        _cell_text(left, line, size=11, align=WD_ALIGN_PARAGRAPH.LEFT)
    committee = "TỈNH ỦY" if c.top.depth == 0 else "ĐẢNG ỦY"
    _cell_text(right, f"T/M {committee}", bold=True, size=14)
    _cell_text(right, lh.signer_title, size=14)
    for _ in range(3):
        _cell_text(right, "")
    _cell_text(right, lh.signer_name or "", bold=True, size=14)


def build_document(c: Consolidation, letterhead: Letterhead | None = None) -> DocxDocument:
    lh = letterhead or Letterhead()
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(14)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    # Party documents: left 30-35 mm, right 15-20 mm, top and bottom 20-25 mm.
    section.left_margin, section.right_margin, section.top_margin, section.bottom_margin = Cm(3), Cm(1.5), Cm(2), Cm(2)
    _header(doc, c, lh)
    _title(doc, c, lh)
    _para(
        doc,
        f"Thực hiện {c.document_number} và kế hoạch {KIND_TITLE[c.kind].lower()}, {c.top.name} báo cáo kết quả "
        f"như sau. Số liệu tính đến ngày {format_date(c.cut_off)}, ngày đến hạn {KIND_TITLE[c.kind].lower()} "
        "(không tính đến ngày lập báo cáo), tổng hợp từ dữ liệu của các cấp trực thuộc.",
    )
    _results(doc, c)
    _assessment(doc, c)
    _rest(doc, c)
    _signature(doc, c, lh)
    _appendix(doc, c)
    return doc


def write_docx(c: Consolidation, path: Path | None = None, letterhead: Letterhead | None = None) -> bytes:
    buffer = BytesIO()
    build_document(c, letterhead).save(buffer)
    data = buffer.getvalue()
    if path is not None:
        path.write_bytes(data)
    return data


__all__ = ["Letterhead", "build_document", "write_docx"]
