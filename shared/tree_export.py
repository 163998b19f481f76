"""The unit tree out to a spreadsheet: the same columns the import reads, so an export imports back unchanged."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.domain.tree import Tree, Unit
from shared.tree_files import COLUMNS
from shared.units.records import load_units


def export_rows(units: Iterable[Unit]) -> list[tuple[str, str, str, str, str, bool, date]]:
    """The current tree as import rows, parents before children: the values an export writes."""
    tree = Tree.of(units)
    out: list[tuple[str, str, str, str, str, bool, date]] = []
    for root in tree.roots:
        for unit_id in tree.subtree(root):
            unit = tree.units[unit_id]
            parent = tree.parent_of(unit_id)
            parent_code = tree.code_of(parent) if parent is not None else ""
            out.append(
                (unit.code, unit.name, parent_code, unit.level, unit.kind.label_vi, unit.armed_forces, unit.valid_from)
            )
    return out


def write_units_xlsx(units: Iterable[Unit], path: str | Path) -> int:
    """Write the current tree (units alive now) as an import-format .xlsx; returns the number of units written."""
    rows = export_rows(units)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("don_vi")
    for letter, width in zip("ABCDEFG", (12, 48, 14, 16, 22, 10, 14), strict=True):
        sheet.column_dimensions[letter].width = width
    bold = Font(bold=True)
    header = []
    for name in COLUMNS:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for code, name, parent_code, level, kind, armed, valid_from in rows:
        day = WriteOnlyCell(sheet, value=valid_from)
        day.number_format = "dd/mm/yyyy"
        sheet.append([code, name, parent_code, level, kind, "có" if armed else "không", day])
    book.save(Path(path))
    return len(rows)


async def export_units_xlsx(source: AsyncConnection | Iterable[Unit], path: str | Path) -> int:
    """Export the units held on a connection (or given directly) in the import format; a round trip changes nothing."""
    units = await load_units(source) if isinstance(source, AsyncConnection) else source
    return write_units_xlsx(units, path)
