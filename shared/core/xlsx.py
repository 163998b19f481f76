"""Reading the .xlsx files offices keep: a header row, then one record per row; every bad row is reported at once."""

from __future__ import annotations

import io
import unicodedata
import zipfile
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook

from shared.core.errors import Refusal, RowProblem
from shared.domain.errors import DateError
from shared.domain.formatting import parse_date

MAX_ROWS = 20_000
"""One import file: a base unit's roster or a study round's grades for a district is well below this."""


def _key(text: object) -> str:
    folded = unicodedata.normalize("NFD", str(text or "")).casefold()
    return "".join(c for c in folded if c.isalnum() and not unicodedata.combining(c)).replace("đ", "d")


def read_rows(content: bytes, columns: Mapping[str, tuple[str, ...]]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, {field: cell value}) for each non-empty row of the first sheet.

    `columns` maps each field to the header texts it may have (compared without accents, case or spaces).
    Refuses a file that is not .xlsx, lacks a required header, or has more than `MAX_ROWS` rows.
    """
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise Refusal(
            422,
            "import.not_xlsx",
            "Tệp không phải bảng tính Excel .xlsx đọc được.",
            f"The file is not a readable .xlsx workbook ({type(exc).__name__}).",
            field="file",
            rule="import",
        ) from None
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None) or ()
    wanted = {field: {_key(n) for n in names} for field, names in columns.items()}
    index: dict[str, int] = {}
    for i, cell in enumerate(header):
        for field, names in wanted.items():
            if _key(cell) in names and field not in index:
                index[field] = i
    missing = [columns[f][0] for f in columns if f not in index and not columns[f][0].endswith("?")]
    if missing:
        raise Refusal(
            422,
            "import.columns",
            f"Thiếu cột: {', '.join(missing)} (dòng 1 phải là dòng tiêu đề).",
            f"Missing columns: {', '.join(missing)} (row 1 must be the header).",
            field="file",
            rule="import",
        )
    for number, values in enumerate(rows, start=2):
        if number - 1 > MAX_ROWS:
            raise Refusal(
                413,
                "import.too_many_rows",
                f"Tệp có quá {MAX_ROWS} dòng; hãy chia thành nhiều tệp.",
                f"The file has more than {MAX_ROWS} rows; split it.",
                field="file",
                rule="import",
            )
        record = {f: (values[i] if i < len(values) else None) for f, i in index.items()}
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in record.values()):
            continue
        yield number, record
    book.close()


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def decimal_text(value: Any) -> str | Decimal:
    """A score cell as the grader typed it: Excel keeps numbers as binary floats, and repr gives back the shortest
    decimal that round-trips, which is what was typed (8.5, not 8.4999...)."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, int):
        return Decimal(value)
    return text(value)


def date_cell(value: Any) -> date | None:
    """A date cell: a real Excel date, or text written dd/mm/yyyy (or ISO); None when it is neither."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    written = text(value)
    try:
        return parse_date(written)
    except DateError:
        pass
    try:
        return date.fromisoformat(written)
    except ValueError:
        return None


def refuse(problems: list[RowProblem]) -> Refusal:
    return Refusal(
        422,
        "import.rows",
        f"Tệp có {len(problems)} lỗi; không dòng nào được ghi. Sửa các dòng được liệt kê rồi nhập lại cả tệp.",
        f"The file has {len(problems)} errors; nothing was written. Fix the rows listed and import the file again.",
        field="file",
        rule="import",
        rows=problems,
    )
