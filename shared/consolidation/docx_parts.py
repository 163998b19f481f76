"""The pieces every page of the .docx report is made of: runs and paragraphs in the Party document's font,
borderless and shaded tables, a figures table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table, _Cell

from shared.domain.formatting import format_decimal

FONT = "Times New Roman"


def _n(value: int) -> str:
    return format_decimal(value)


def _run(
    paragraph: Any, text: str, *, bold: bool = False, italic: bool = False, size: float = 14, underline: bool = False
) -> Any:
    run = paragraph.add_run(text)
    run.bold, run.italic, run.underline = bold, italic, underline
    run.font.size = Pt(size)
    run.font.name = FONT
    run._element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    return run


def _para(
    container: Any,
    text: str = "",
    *,
    align: Any = WD_ALIGN_PARAGRAPH.JUSTIFY,
    bold: bool = False,
    italic: bool = False,
    size: float = 14.0,
    indent: bool = True,
    after: float = 6,
) -> Any:
    p = container.add_paragraph()
    p.alignment = align
    fmt = p.paragraph_format
    fmt.space_after = Pt(after)
    fmt.space_before = Pt(0)
    fmt.line_spacing = 1.15
    if indent and align == WD_ALIGN_PARAGRAPH.JUSTIFY:
        fmt.first_line_indent = Cm(1.0)
    if text:
        _run(p, text, bold=bold, italic=italic, size=size)
    return p


def _no_borders(table: Table) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    table._tbl.tblPr.append(borders)


def _cell_text(
    cell: _Cell,
    text: str,
    *,
    bold: bool = False,
    italic: bool = False,
    size: float = 12,
    align: Any = WD_ALIGN_PARAGRAPH.CENTER,
    underline: bool = False,
) -> None:
    p = cell.paragraphs[0] if not cell.paragraphs[0].text else cell.add_paragraph()
    p.alignment = align
    p.paragraph_format.space_after = Pt(0)
    _run(p, text, bold=bold, italic=italic, size=size, underline=underline)


def _shade(cell: _Cell, fill: str = "E7EDF3") -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _figures_table(
    doc: DocxDocument,
    head: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[float],
    *,
    size: float = 11,
    bold_last: bool = True,
) -> Table:
    table = doc.add_table(rows=1, cols=len(head))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, title in enumerate(head):
        _cell_text(table.rows[0].cells[i], title, bold=True, size=size)
        _shade(table.rows[0].cells[i])
    # The heading row repeats at the top of every page the table runs onto.
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    table.rows[0]._tr.get_or_add_trPr().append(repeat)
    for r, values in enumerate(rows):
        cells = table.add_row().cells
        last = bold_last and r == len(rows) - 1
        for i, value in enumerate(values):
            align = WD_ALIGN_PARAGRAPH.LEFT if i == 1 or (i == 0 and len(head) == 2) else WD_ALIGN_PARAGRAPH.CENTER
            _cell_text(cells[i], value, size=size, bold=last, align=align)
    # LibreOffice and Word lay out by the grid columns; cell widths alone are ignored once autofit is on.
    table.autofit = False
    for i, w in enumerate(widths):
        table.columns[i].width = Cm(w)
    for row in table.rows:
        for i, w in enumerate(widths):
            row.cells[i].width = Cm(w)
    doc.add_paragraph().paragraph_format.space_after = Pt(2)
    result: Table = table
    return result
