"""Reading a unit tree file — .csv (UTF-8, comma or semicolon) or the first sheet of an .xlsx — into rows of text."""

from __future__ import annotations

import csv
import io
import unicodedata
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl

from shared.domain.formatting import format_date

COLUMNS: tuple[str, ...] = ("ma", "ten", "ma_cap_tren", "cap", "loai", "luc_luong_vu_trang", "hieu_luc_tu")
_HEADER_ALIASES: Mapping[str, str] = {
    **{name: name for name in COLUMNS},
    "ma_don_vi": "ma",
    "code": "ma",
    "ten_don_vi": "ten",
    "name": "ten",
    "ma_don_vi_cap_tren": "ma_cap_tren",
    "cap_tren": "ma_cap_tren",
    "parent": "ma_cap_tren",
    "parent_code": "ma_cap_tren",
    "cap_don_vi": "cap",
    "level": "cap",
    "loai_don_vi": "loai",
    "kind": "loai",
    "llvt": "luc_luong_vu_trang",
    "armed_forces": "luc_luong_vu_trang",
    "hieu_luc_tu_ngay": "hieu_luc_tu",
    "ngay_hieu_luc": "hieu_luc_tu",
    "valid_from": "hieu_luc_tu",
}


"""The columns in the order an export writes them."""


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One thing wrong with an import file; `row` is the row number the user sees (header = 1), None for the file."""

    file: str
    row: int | None
    column: str | None
    message_vi: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"dòng {self.row}")
        if self.column is not None:
            where.append(f'cột "{self.column}"')
        return f"{', '.join(where)}: {self.message_vi}"


class ImportRejected(ValueError):
    """The file was refused as a whole; nothing was written. `str()` lists every problem, one per line."""

    def __init__(self, problems: Sequence[ImportProblem]) -> None:
        self.problems = sorted(problems, key=_problem_order)
        super().__init__("\n".join(str(p) for p in self.problems))


def _problem_order(p: ImportProblem) -> tuple[str, int, int]:
    return (p.file, p.row or 0, COLUMNS.index(p.column) if p.column in COLUMNS else len(COLUMNS))


@dataclass(slots=True)
class _Table:
    header_row: int
    header: list[str]
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)


def _fold(text: str) -> str:
    """Lower case without diacritics ("đ" → "d"): how headers and labels are compared."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _key(text: str) -> str:
    return "_".join("".join(c if c.isalnum() else " " for c in _fold(text)).split())


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    # Excel stores a code typed as 101 as the number 101.0.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return format_date(value.date())
    if isinstance(value, date):
        return format_date(value)
    return unicodedata.normalize("NFC", str(value)).strip()


def _read_csv(name: str, data: bytes) -> _Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected(
            [
                ImportProblem(
                    name, None, None, f"tệp CSV không ở mã UTF-8 (lỗi ở byte {exc.start}); hãy lưu lại dạng UTF-8"
                )
            ]
        ) from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    return _table(name, list(enumerate(records, start=1)))


def _read_xlsx(name: str, source: Path | io.BytesIO) -> _Table:
    try:
        # Files saved by other tools make openpyxl warn about styles it cannot read; the values are still right.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types (zip, XML, KeyError) for a damaged file
        raise ImportRejected([ImportProblem(name, None, None, f"không đọc được tệp Excel (.xlsx): {exc}")]) from None
    try:
        sheet = book.worksheets[0]
        records = [(i, list(values)) for i, values in enumerate(sheet.iter_rows(values_only=True), start=1)]
    finally:
        book.close()
    return _table(name, records)


def _table(name: str, records: list[tuple[int, list[Any]]]) -> _Table:
    nonempty = [(i, [_cell_text(v) for v in values]) for i, values in records if any(_cell_text(v) for v in values)]
    if not nonempty:
        raise ImportRejected([ImportProblem(name, None, None, "tệp trống, không có dòng tiêu đề")])
    # Offices often put a title ("DANH SÁCH ĐƠN VỊ") above the table: the header is the first row naming columns.
    start = next(
        (i for i, (_, cells) in enumerate(nonempty[:10]) if sum(_key(c) in _HEADER_ALIASES for c in cells) >= 2), 0
    )
    (header_row, header), *rows = nonempty[start:]
    return _Table(header_row, header, rows)
