"""Reading the .xlsx files offices keep: a header row, then one record per row; every bad row is reported at once."""

from __future__ import annotations

import io
import unicodedata
import zipfile
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from litestar import Request
from litestar.datastructures import UploadFile
from openpyxl import load_workbook

from shared.api.errors import ApiError, RowProblem
from shared.domain.errors import DateError
from shared.domain.formatting import parse_date

MAX_ROWS = 20_000
"""One import file: a base unit's roster or a study round's grades for a district is well below this."""
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
"""One .xlsx upload: 20 000 rows of names and grades take well under 2 MB."""
MAX_UNCOMPRESSED_BYTES = 64 * 1024 * 1024
"""All parts of the workbook once unzipped: what openpyxl may be asked to parse."""
MAX_RATIO = 100
"""Unzipped size over zipped size for any part: real sheets compress 5–20 times; a zip bomb thousands of times."""
MAX_PARTS = 500
_CHUNK = 1024 * 1024


async def require_upload(request: Request[Any, Any, Any]) -> None:
    """Before an import handler: a multipart body without a file is refused in words (Litestar would fail with a
    500 looking for the file; found by the fuzzer)."""
    form = await request.form()
    if not any(isinstance(v, UploadFile) for v in form.values()):
        raise ApiError(
            400,
            "import.no_file",
            "Chưa có tệp .xlsx trong yêu cầu; hãy chọn tệp rồi gửi lại.",
            "No .xlsx file in the request; attach one and send again.",
            field="file",
            rule="import",
        )


def _refused(code: str, message_vi: str, message_en: str, status: int = 413) -> ApiError:
    return ApiError(status, code, message_vi, message_en, field="file", rule="import")


def check_upload(content: bytes) -> None:
    """Refuse an upload too large, or a zip that would unpack to far more than it weighs (a zip bomb), before
    openpyxl parses it: the declared sizes are checked first, then each part is unzipped with a counter that stops
    at its declared size (a part lying about its size is caught without unpacking it whole)."""
    if len(content) > MAX_UPLOAD_BYTES:
        size = f"{len(content) / 1024 / 1024:.1f}".replace(".", ",")
        raise _refused(
            "import.too_large",
            f"Tệp nặng {size} MB, quá giới hạn {MAX_UPLOAD_BYTES // 1024 // 1024} MB; "
            "hãy chia thành nhiều tệp nhỏ hơn.",
            f"The file is {len(content)} bytes, above the {MAX_UPLOAD_BYTES} byte limit; split it.",
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return  # not a zip at all: openpyxl refuses it with the usual "not a readable .xlsx" message
    bomb = _refused(
        "import.zip_bomb",
        "Tệp này khi giải nén lớn bất thường nên không được mở (có thể là tệp độc hại). "
        "Hãy mở bằng Excel, lưu lại thành .xlsx rồi nhập lại.",
        "The file unpacks to an abnormal size and was not opened (possibly a zip bomb). Re-save it in Excel.",
    )
    declared = sum(p.file_size for p in parts)
    if len(parts) > MAX_PARTS or declared > MAX_UNCOMPRESSED_BYTES:
        raise bomb
    if any(p.file_size > MAX_RATIO * max(p.compress_size, 1024) for p in parts):
        raise bomb
    for part in parts:
        seen = 0
        try:
            with archive.open(part) as stream:
                while chunk := stream.read(_CHUNK):
                    seen += len(chunk)
                    if seen > part.file_size:
                        raise bomb
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
            return  # a damaged part: openpyxl reports the file as unreadable


def _key(text: object) -> str:
    folded = unicodedata.normalize("NFD", str(text or "")).casefold()
    return "".join(c for c in folded if c.isalnum() and not unicodedata.combining(c)).replace("đ", "d")


def read_rows(content: bytes, columns: Mapping[str, tuple[str, ...]]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, {field: cell value}) for each non-empty row of the first sheet.

    `columns` maps each field to the header texts it may have (compared without accents, case or spaces).
    Refuses a file that is not .xlsx, lacks a required header, or has more than `MAX_ROWS` rows.
    """
    check_upload(content)
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ApiError(
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
        raise ApiError(
            422,
            "import.columns",
            f"Thiếu cột: {', '.join(missing)} (dòng 1 phải là dòng tiêu đề).",
            f"Missing columns: {', '.join(missing)} (row 1 must be the header).",
            field="file",
            rule="import",
        )
    for number, values in enumerate(rows, start=2):
        if number - 1 > MAX_ROWS:
            raise ApiError(
                413,
                "import.too_many_rows",
                f"Tệp có quá {MAX_ROWS:,} dòng; hãy chia thành nhiều tệp.".replace(",", "."),
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


def refuse(problems: list[RowProblem]) -> ApiError:
    return ApiError(
        422,
        "import.rows",
        f"Tệp có {len(problems)} lỗi; không dòng nào được ghi. Sửa các dòng được liệt kê rồi nhập lại cả tệp.",
        f"The file has {len(problems)} errors; nothing was written. Fix the rows listed and import the file again.",
        field="file",
        rule="import",
        rows=problems,
    )
