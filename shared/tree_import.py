"""Importing and exporting the unit tree as a spreadsheet (.csv or .xlsx) in one documented column format (D1).

Columns (header names are matched ignoring case, spaces and diacritics, so "Mã", "Tên đơn vị" and "Mã cấp trên"
work; other columns such as "STT" are ignored):

- `ma` (required): the unit's code, unique in the file, e.g. `TU`, `X001`, `CS0001`.
- `ten` (required): the unit's name, e.g. "Đảng bộ xã Tân Phú".
- `ma_cap_tren` (required column): the parent's code; empty for the root (Tỉnh ủy) only. The parent may be in the
  file or already in the database.
- `cap` (required): the level label users read, e.g. "Tỉnh", "Cấp xã", "Cơ sở", "Chi bộ" (depth is data, D1).
- `loai` (required): the kind, a Vietnamese label ("Cấp ủy", "Tổ chức cơ sở đảng", "Chi bộ", "Đảng đoàn",
  "Ban cán sự đảng", "Tổ chức chính trị - xã hội", and synonyms such as "Đảng bộ cơ sở", "Chi bộ cơ sở",
  "Chi bộ trực thuộc") or a `UnitKind` value (`committee`, `base_organisation`, `cell`, ...).
- `luc_luong_vu_trang` (optional): armed forces (D3): có/không, x, 1/0, true/false; empty means không.
- `hieu_luc_tu` (optional): valid from, dd/mm/yyyy; empty means the date the importer is given.

An import never deletes, closes or moves a unit: a code already in the database with another parent is a conflict
(moves, merges and splits are tree edits, D1a). A changed name, level or kind of an existing unit becomes a new
version of it from the import's change date, so reports for earlier periods keep the old one.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncConnection

from shared.db.engine import Database
from shared.domain.errors import DateError
from shared.domain.formatting import format_date, parse_date
from shared.domain.tree import KIND_LABELS_VI, TreeError, Unit, UnitKind, Version
from shared.ids import new_id
from shared.tree_files import (
    _HEADER_ALIASES,
    ImportProblem,
    ImportRejected,
    _fold,
    _key,
    _read_csv,
    _read_xlsx,
)
from shared.units.records import load_units, store_units

REQUIRED_COLUMNS: tuple[str, ...] = ("ma", "ten", "ma_cap_tren", "cap", "loai")

COLUMN_LABELS_VI: Mapping[str, str] = {
    "ma": "Mã đơn vị",
    "ten": "Tên đơn vị",
    "ma_cap_tren": "Mã đơn vị cấp trên",
    "cap": "Cấp",
    "loai": "Loại đơn vị",
    "luc_luong_vu_trang": "Lực lượng vũ trang",
    "hieu_luc_tu": "Hiệu lực từ ngày",
}

# Header spellings seen in provincial spreadsheets, after `_key` (lower case, no diacritics, "_" between words).

_KIND_SYNONYMS_VI: Mapping[str, UnitKind] = {
    "Tổ chức cơ sở": UnitKind.BASE_ORGANISATION,
    "TCCSĐ": UnitKind.BASE_ORGANISATION,
    "Đảng bộ cơ sở": UnitKind.BASE_ORGANISATION,
    "Chi bộ cơ sở": UnitKind.BASE_ORGANISATION,
    "Chi bộ trực thuộc": UnitKind.CELL,
    "Đoàn thể": UnitKind.MASS_ORGANISATION,
}

_TRUE = frozenset({"co", "x", "1", "true", "yes", "dung", "c"})
_FALSE = frozenset({"", "khong", "0", "false", "no", "k"})

# Column widths of the database (shared/sync/tables.py): longer values would fail only on PostgreSQL.
_MAX_LENGTH: Mapping[str, int] = {"ma": 64, "ten": 300, "cap": 100}


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One data row as read; fields whose cell was missing or invalid are empty (a problem says why)."""

    row: int
    code: str
    name: str
    parent_code: str
    level: str
    kind: UnitKind | None
    armed_forces: bool
    valid_from: date | None


@dataclass(frozen=True, slots=True)
class UnitRows:
    """A file's rows and the problems found in single rows and in the header."""

    file: str
    rows: list[ImportRow]
    problems: list[ImportProblem]


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """How many units an import created, changed (a new version or flag) and found already as in the file."""

    created: int
    updated: int
    unchanged: int


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """The units to store (new and changed ones) and the counts the user is shown."""

    changed: list[Unit]
    summary: ImportSummary


# Built after `_key` exists; keys are header-style keys so "Chi bộ cơ sở" and "chi bo co so" meet.
_KIND_ALIASES: Mapping[str, UnitKind] = {
    **{kind.value: kind for kind in UnitKind},
    **{_key(label): kind for kind, label in KIND_LABELS_VI.items()},
    **{_key(label): kind for label, kind in _KIND_SYNONYMS_VI.items()},
}


def kind_from_text(text: str) -> UnitKind | None:
    """A `UnitKind` from a Vietnamese label or an enum value, or None when it is neither."""
    return _KIND_ALIASES.get(_key(text))


def read_unit_rows(path: str | Path, content: bytes | None = None) -> UnitRows:
    """Read a .csv or .xlsx file (or its `content`, e.g. an upload named `path`) into rows and single-row problems.

    Raises `ImportRejected` only when the file cannot be read at all.
    """
    path = Path(path)
    name = path.name
    suffix = path.suffix.lower()
    if suffix == ".csv":
        table = _read_csv(name, content if content is not None else path.read_bytes())
    elif suffix == ".xlsx":
        table = _read_xlsx(name, io.BytesIO(content) if content is not None else path)
    else:
        raise ImportRejected([ImportProblem(name, None, None, "chỉ nhận tệp .csv hoặc .xlsx")])

    problems: list[ImportProblem] = []
    positions: dict[str, int] = {}
    for index, written in enumerate(table.header):
        column = _HEADER_ALIASES.get(_key(written))
        if column is None:
            continue
        if column in positions:
            problems.append(
                ImportProblem(name, table.header_row, column, f'cột "{column}" xuất hiện hai lần ("{written}")')
            )
            continue
        positions[column] = index
    for column in REQUIRED_COLUMNS:
        if column not in positions:
            problems.append(
                ImportProblem(
                    name, table.header_row, column, f'thiếu cột bắt buộc "{column}" ({COLUMN_LABELS_VI[column]})'
                )
            )
    if not table.rows:
        problems.append(ImportProblem(name, None, None, "tệp không có dòng dữ liệu nào"))

    rows = [_parse_row(name, number, values, positions, problems) for number, values in table.rows]
    return UnitRows(name, rows, problems)


def _parse_row(
    name: str, number: int, values: list[str], positions: Mapping[str, int], problems: list[ImportProblem]
) -> ImportRow:
    def cell(column: str) -> str:
        index = positions.get(column)
        return values[index] if index is not None and index < len(values) else ""

    def problem(column: str, message: str) -> None:
        problems.append(ImportProblem(name, number, column, message))

    for column in ("ma", "ten", "cap", "loai"):
        if column in positions and not cell(column):
            problem(column, f"ô bắt buộc ({COLUMN_LABELS_VI[column]}) đang để trống")
    for column, limit in _MAX_LENGTH.items():
        if len(cell(column)) > limit:
            problem(column, f"dài {len(cell(column))} ký tự, tối đa {limit}")

    kind: UnitKind | None = None
    if cell("loai"):
        kind = kind_from_text(cell("loai"))
        if kind is None:
            labels = ", ".join(KIND_LABELS_VI.values())
            problem("loai", f'loại đơn vị "{cell("loai")}" không hợp lệ; dùng một trong: {labels}')

    armed_text = _fold(cell("luc_luong_vu_trang"))
    if armed_text not in _TRUE | _FALSE:
        problem("luc_luong_vu_trang", f'giá trị "{cell("luc_luong_vu_trang")}" không hợp lệ; ghi "có" hoặc "không"')

    valid_from: date | None = None
    if cell("hieu_luc_tu"):
        try:
            valid_from = parse_date(cell("hieu_luc_tu"))
        except DateError as exc:
            problem("hieu_luc_tu", exc.message_vi)

    return ImportRow(
        row=number,
        code=cell("ma"),
        name=cell("ten"),
        parent_code=cell("ma_cap_tren"),
        level=cell("cap"),
        kind=kind,
        armed_forces=armed_text in _TRUE,
        valid_from=valid_from,
    )


def plan_import(
    rows: UnitRows, existing: Iterable[Unit], *, default_valid_from: date, changes_from: date | None = None
) -> ImportPlan:
    """Check the rows against each other and against the units held, and work out what to store.

    `default_valid_from` is the valid-from date of new units whose cell is empty; `changes_from` (default the same)
    is the day from which a changed name, level or kind of an existing unit applies (D1a). Raises `ImportRejected`
    with every problem, those of `rows` included, unless there are none.
    """
    name = rows.file
    problems = list(rows.problems)
    changes_day = changes_from or default_valid_from
    held = list(existing)
    current = {u.code: u for u in held if u.valid_to is None}
    closed = {u.code: u for u in held if u.valid_to is not None and u.code not in current}
    held_code = {u.id: u.code for u in held}
    held_roots = [u for u in current.values() if u.parent is None]

    def problem(row: ImportRow | None, column: str | None, message: str) -> None:
        problems.append(ImportProblem(name, row.row if row else None, column, message))

    by_code: dict[str, ImportRow] = {}
    for row in rows.rows:
        if not row.code:
            continue
        first = by_code.get(row.code)
        if first is not None:
            problem(row, "ma", f'mã "{row.code}" trùng với dòng {first.row}')
            continue
        by_code[row.code] = row
        if row.code in closed:
            gone = closed[row.code]
            problem(
                row,
                "ma",
                f'mã "{row.code}" là của đơn vị "{gone.name}" đã giải thể hoặc sáp nhập từ ngày '
                f"{format_date(gone.valid_to or gone.valid_from)}; hãy dùng mã khác",
            )

    for row in by_code.values():
        if not row.parent_code:
            continue
        if row.parent_code == row.code:
            problem(row, "ma_cap_tren", "đơn vị không thể là cấp trên của chính nó")
        elif row.parent_code not in by_code and row.parent_code not in current:
            problem(row, "ma_cap_tren", f'không có đơn vị mã "{row.parent_code}"')

    for row in by_code.values():
        unit = current.get(row.code)
        if unit is None:
            continue
        held_parent = held_code.get(unit.parent, "") if unit.parent else ""
        if row.parent_code != held_parent:
            problem(
                row,
                "ma_cap_tren",
                f'xung đột: đơn vị mã "{row.code}" đã có trong dữ liệu với cấp trên '
                f'"{held_parent or "(không có, là đơn vị gốc)"}"; muốn chuyển đơn vị hãy dùng chức năng điều chuyển',
            )
        if row.valid_from is not None and row.valid_from != unit.valid_from:
            problem(
                row,
                "hieu_luc_tu",
                f'xung đột: đơn vị mã "{row.code}" đã có trong dữ liệu với ngày hiệu lực '
                f"{format_date(unit.valid_from)}; để trống ô này hoặc ghi đúng ngày đó",
            )

    file_roots = [row for row in by_code.values() if not row.parent_code]
    if held_roots:
        root_code = held_roots[0].code
        for row in file_roots:
            if row.code not in current:
                problem(
                    row,
                    "ma_cap_tren",
                    f'dữ liệu đã có đơn vị gốc mã "{root_code}"; đơn vị mới phải có mã cấp trên',
                )
    elif not file_roots and by_code:
        problem(None, "ma_cap_tren", 'không có đơn vị gốc (Tỉnh ủy): đúng một dòng phải để trống ô "ma_cap_tren"')
    elif len(file_roots) > 1:
        listed = ", ".join(f'"{r.code}" (dòng {r.row})' for r in file_roots)
        for row in file_roots:
            problem(row, "ma_cap_tren", f"cây chỉ được có một đơn vị gốc, tệp có {len(file_roots)}: {listed}")

    in_cycle: set[str] = set()
    for row in by_code.values():
        chain, seen = [row.code], {row.code}
        node = by_code.get(row.parent_code)
        while node is not None and node.code not in seen and node.code not in in_cycle:
            chain.append(node.code)
            seen.add(node.code)
            node = by_code.get(node.parent_code)
        # A unit that is its own parent was reported above; longer loops are reported once, on each of their rows.
        if node is not None and node.code in seen and node.code != node.parent_code:
            cycle = chain[chain.index(node.code) :]
            in_cycle.update(cycle)
            loop = " → ".join([*cycle, node.code])
            for code in cycle:
                problem(by_code[code], "ma_cap_tren", f"vòng lặp cấp trên: {loop}")

    plan = _build(by_code, current, default_valid_from, changes_day, lambda row, msg: problem(row, None, msg))
    if problems:
        raise ImportRejected(problems)
    return plan


def _build(
    by_code: Mapping[str, ImportRow],
    current: Mapping[str, Unit],
    default_valid_from: date,
    changes_day: date,
    report: Callable[[ImportRow, str], None],
) -> ImportPlan:
    ids = {code: current[code].id if code in current else new_id() for code in by_code}
    ids.update({code: unit.id for code, unit in current.items() if code not in ids})
    changed: list[Unit] = []
    created = updated = unchanged = 0
    for row in by_code.values():
        if row.kind is None:
            continue
        parent = ids.get(row.parent_code) if row.parent_code else None
        unit = current.get(row.code)
        if unit is None:
            since = row.valid_from or default_valid_from
            version = Version(since, row.code, row.name, parent, row.level, row.kind)
            changed.append(Unit(ids[row.code], row.armed_forces, since, None, (version,)))
            created += 1
            continue
        edited = unit
        labels = {"name": row.name, "level": row.level, "kind": row.kind}
        if any(getattr(unit.current, k) != v for k, v in labels.items()):
            try:
                edited = edited.with_version(changes_day, **labels)
            except TreeError as exc:
                report(row, str(exc))
        if unit.armed_forces != row.armed_forces:
            edited = replace(edited, armed_forces=row.armed_forces)
        if edited is unit:
            unchanged += 1
        else:
            changed.append(edited)
            updated += 1
    return ImportPlan(changed, ImportSummary(created, updated, unchanged))


async def import_units(
    target: Database | AsyncConnection,
    path: str | Path,
    *,
    default_valid_from: date,
    changes_from: date | None = None,
    content: bytes | None = None,
) -> ImportSummary:
    """Validate a whole file, then create or update its units in one write transaction; idempotent.

    Given a `Database`, opens that transaction itself; given a connection, writes in the caller's transaction.
    Raises `ImportRejected` (and writes nothing) when any row has a problem.
    """
    rows = read_unit_rows(path, content)
    if isinstance(target, Database):
        async with target.write() as conn:
            return await _import(conn, rows, default_valid_from, changes_from)
    return await _import(target, rows, default_valid_from, changes_from)


async def _import(
    conn: AsyncConnection, rows: UnitRows, default_valid_from: date, changes_from: date | None
) -> ImportSummary:
    plan = plan_import(rows, await load_units(conn), default_valid_from=default_valid_from, changes_from=changes_from)
    if plan.changed:
        await store_units(conn, plan.changed)
    return plan.summary
