"""Importing the unit tree from .csv and .xlsx on both databases: all-or-nothing, idempotent, round trip (D1, D1a)."""

from __future__ import annotations

import csv
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from shared.db.engine import Database
from shared.domain.tree import Tree, Unit, UnitKind, merge, move, rename
from shared.sample_province import sample_units, small_sample_units
from shared.sync.store import head
from shared.tree_export import export_units_xlsx
from shared.tree_files import ImportProblem, ImportRejected
from shared.tree_import import ImportSummary, import_units, read_unit_rows
from shared.units.records import load_tree, load_units, store_units

HEADER = ["ma", "ten", "ma_cap_tren", "cap", "loai", "luc_luong_vu_trang", "hieu_luc_tu"]
DEFAULT_DAY = date(2025, 7, 1)
GOOD_ROWS = [
    ["TU", "Tỉnh ủy Mẫu", "", "Tỉnh", "Cấp ủy", "", "01/07/2025"],
    ["X001", "Đảng bộ xã Tân Phú", "TU", "Cấp xã", "Cấp ủy", "không", ""],
    ["X002", "Đảng ủy Quân sự tỉnh", "TU", "Cấp trên cơ sở", "committee", "có", "01/07/2025"],
    ["CS0001", "Đảng bộ Trường Quân sự tỉnh", "X002", "Cơ sở", "Đảng bộ cơ sở", "x", ""],
    ["CB00001", "Chi bộ Đại đội 1", "CS0001", "Chi bộ", "chi bộ", "1", ""],
    ["CB00002", "Chi bộ thôn Phú Hòa", "X001", "Chi bộ", "Chi bộ trực thuộc", "0", "15/3/2026"],
    ["CS0002", "Chi bộ Trường Tiểu học Tân Phú", "X001", "Cơ sở", "Tổ chức cơ sở đảng", "false", ""],
]

Writer = Callable[[Path, Sequence[Sequence[object]]], Path]


def write_csv(path: Path, rows: Sequence[Sequence[object]], *, delimiter: str = ",", bom: bool = False) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        csv.writer(f, delimiter=delimiter).writerows(rows)
    return path


def write_xlsx(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


async def counts(db: Database) -> tuple[int, int]:
    """Units held and the feed head: both unchanged means nothing at all was written."""
    async with db.read() as conn:
        return len(await load_units(conn)), await head(conn)


async def tree_of(db: Database, day: date | None = None) -> Tree:
    async with db.read() as conn:
        return await load_tree(conn, day)


async def store(db: Database, units: Sequence[Unit]) -> None:
    async with db.write() as conn:
        await store_units(conn, units)


def described(tree: Tree) -> dict[str, tuple[str, str | None, str, UnitKind, bool]]:
    out = {}
    for unit_id, unit in tree.units.items():
        parent = tree.parent_of(unit_id)
        out[tree.code_of(unit_id)] = (
            tree.name_of(unit_id),
            tree.code_of(parent) if parent else None,
            tree.version(unit_id).level,
            unit.kind,
            unit.armed_forces,
        )
    return out


async def test_d1_import_good_csv_with_bom_and_vietnamese_headers(db: Database, tmp_path: Path) -> None:
    header = ["STT", "Mã", "Tên đơn vị", "Mã cấp trên", "CẤP", "Loại đơn vị", "Lực lượng vũ trang", "Hiệu lực từ"]
    rows = [header, *([str(i), *row] for i, row in enumerate(GOOD_ROWS, start=1))]
    path = write_csv(tmp_path / "donvi.csv", rows, bom=True)
    summary = await import_units(db, path, default_valid_from=DEFAULT_DAY)
    assert summary == ImportSummary(created=7, updated=0, unchanged=0)
    tree = await tree_of(db)
    units = described(tree)
    assert units["TU"] == ("Tỉnh ủy Mẫu", None, "Tỉnh", UnitKind.COMMITTEE, False)
    assert units["X002"] == ("Đảng ủy Quân sự tỉnh", "TU", "Cấp trên cơ sở", UnitKind.COMMITTEE, True)
    assert units["CS0001"][2:] == ("Cơ sở", UnitKind.BASE_ORGANISATION, True)
    assert units["CB00001"] == ("Chi bộ Đại đội 1", "CS0001", "Chi bộ", UnitKind.CELL, True)
    assert units["CB00002"][3:] == (UnitKind.CELL, False)
    assert units["CS0002"][3] is UnitKind.BASE_ORGANISATION
    assert tree.units[tree.by_code("CB00002").id].valid_from == date(2026, 3, 15)
    assert tree.units[tree.by_code("X001").id].valid_from == DEFAULT_DAY
    assert tree.depth(tree.by_code("CB00001").id) == 3


async def test_d1_import_semicolon_csv(db: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "donvi.csv", [HEADER, *GOOD_ROWS], delimiter=";")
    assert (await import_units(db, path, default_valid_from=DEFAULT_DAY)).created == 7
    assert len((await tree_of(db)).units) == 7


async def test_d1_import_good_xlsx_with_typed_cells(db: Database, tmp_path: Path) -> None:
    rows: list[list[object]] = [["Mã", "Tên", "Mã cấp trên", "Cấp", "Loại", "LLVT", "Hiệu lực từ ngày"]]
    for code, name, parent, level, kind, armed, _day in GOOD_ROWS:
        rows.append([code, name, parent or None, level, kind, armed or None, datetime(2025, 8, 1)])
    rows.append([101, "Chi bộ số 101", "X001", "Chi bộ", "cell", True, None])  # Excel turns typed codes into numbers
    path = write_xlsx(tmp_path / "donvi.xlsx", rows)
    summary = await import_units(db, path, default_valid_from=DEFAULT_DAY)
    assert summary.created == 8
    tree = await tree_of(db)
    cell = tree.units[tree.by_code("101").id]
    assert (cell.armed_forces, cell.valid_from, cell.kind) == (True, DEFAULT_DAY, UnitKind.CELL)
    assert tree.units[tree.by_code("TU").id].valid_from == date(2025, 8, 1)


async def test_d1_title_rows_above_the_header_keep_real_row_numbers(db: Database, tmp_path: Path) -> None:
    rows: list[list[object]] = [["DANH SÁCH ĐƠN VỊ (dữ liệu mô phỏng)"], [], HEADER, *GOOD_ROWS]
    rows.append(["CB00003", "Chi bộ thôn Mới", "HU99", "Chi bộ", "Chi bộ", "", ""])
    path = write_xlsx(tmp_path / "donvi.xlsx", rows)
    with pytest.raises(ImportRejected) as caught:
        await import_units(db, path, default_valid_from=DEFAULT_DAY)
    assert str(caught.value) == 'donvi.xlsx, dòng 11, cột "ma_cap_tren": không có đơn vị mã "HU99"'
    path = write_xlsx(tmp_path / "donvi.xlsx", rows[:-1])
    assert (await import_units(db, path, default_valid_from=DEFAULT_DAY)).created == 7


BAD_CASES = [
    # (rows after the header, expected (row, column, fragment of the message))
    pytest.param([["TU", "", "", "Tỉnh", "Cấp ủy", "", ""]], (2, "ten", "để trống"), id="empty-required-cell"),
    pytest.param(
        [GOOD_ROWS[0], GOOD_ROWS[1], ["X001", "Đảng bộ xã khác", "TU", "Cấp xã", "Cấp ủy", "", ""]],
        (4, "ma", 'mã "X001" trùng với dòng 3'),
        id="duplicate-code",
    ),
    pytest.param(
        [GOOD_ROWS[0], ["X009", "Đảng bộ xã Lạc", "HU99", "Cấp xã", "Cấp ủy", "", ""]],
        (3, "ma_cap_tren", 'không có đơn vị mã "HU99"'),
        id="unknown-parent",
    ),
    pytest.param(
        [
            GOOD_ROWS[0],
            ["A", "Đơn vị A", "B", "Cấp xã", "Cấp ủy", "", ""],
            ["B", "Đơn vị B", "A", "Cấp xã", "Cấp ủy", "", ""],
        ],
        (3, "ma_cap_tren", "vòng lặp cấp trên: A → B → A"),
        id="cycle",
    ),
    pytest.param(
        [GOOD_ROWS[0], ["A", "Đơn vị A", "A", "Cấp xã", "Cấp ủy", "", ""]],
        (3, "ma_cap_tren", "cấp trên của chính nó"),
        id="own-parent",
    ),
    pytest.param(
        [GOOD_ROWS[0], ["TU2", "Tỉnh ủy khác", "", "Tỉnh", "Cấp ủy", "", ""]],
        (3, "ma_cap_tren", "chỉ được có một đơn vị gốc"),
        id="two-roots",
    ),
    pytest.param(
        [
            ["X001", "Đảng bộ xã Tân Phú", "X002", "Cấp xã", "Cấp ủy", "", ""],
            [*GOOD_ROWS[2][:2], "X001", *GOOD_ROWS[2][3:]],
        ],
        (None, "ma_cap_tren", "không có đơn vị gốc"),
        id="no-root",
    ),
    pytest.param(
        [[*GOOD_ROWS[0][:6], "31/02/2025"]], (2, "hieu_luc_tu", "Không có ngày 31/02/2025"), id="impossible-date"
    ),
    pytest.param([[*GOOD_ROWS[0][:6], "2025-07-01"]], (2, "hieu_luc_tu", "ngày/tháng/năm"), id="iso-date"),
    pytest.param(
        [[*GOOD_ROWS[0][:4], "Ủy ban", "", ""]], (2, "loai", 'loại đơn vị "Ủy ban" không hợp lệ'), id="unknown-kind"
    ),
    pytest.param(
        [[*GOOD_ROWS[0][:5], "có lẽ", ""]], (2, "luc_luong_vu_trang", 'giá trị "có lẽ" không hợp lệ'), id="bad-flag"
    ),
    pytest.param([["X" * 65, *GOOD_ROWS[0][1:]]], (2, "ma", "tối đa 64"), id="code-too-long"),
]


@pytest.mark.parametrize(("rows", "expected"), BAD_CASES)
@pytest.mark.parametrize("writer", [write_csv, write_xlsx], ids=["csv", "xlsx"])
async def test_d1_bad_row_rejects_the_whole_file(
    db: Database,
    tmp_path: Path,
    rows: list[list[str]],
    expected: tuple[int | None, str, str],
    writer: Writer,
) -> None:
    name = "donvi.csv" if writer is write_csv else "donvi.xlsx"
    path = writer(tmp_path / name, [HEADER, *rows])
    before = await counts(db)
    with pytest.raises(ImportRejected) as caught:
        await import_units(db, path, default_valid_from=DEFAULT_DAY)
    row, column, fragment = expected
    matching = [p for p in caught.value.problems if p.row == row and p.column == column and fragment in p.message_vi]
    assert matching, str(caught.value)
    assert all(p.file == name for p in caught.value.problems)
    assert await counts(db) == before


async def test_d1_missing_column_is_reported_on_the_header_row(db: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "donvi.csv", [["ma", "ten", "cap"], ["TU", "Tỉnh ủy", "Tỉnh"]])
    with pytest.raises(ImportRejected) as caught:
        await import_units(db, path, default_valid_from=DEFAULT_DAY)
    assert {(p.row, p.column) for p in caught.value.problems} >= {(1, "ma_cap_tren"), (1, "loai")}
    assert 'thiếu cột bắt buộc "loai"' in str(caught.value)
    assert await counts(db) == (0, 0)


async def test_d1_every_problem_is_listed_one_per_line_and_nothing_is_written(db: Database, tmp_path: Path) -> None:
    await store(db, small_sample_units())
    before = await counts(db)
    rows: list[list[object]] = [
        HEADER,
        ["H1", "Huyện ủy An Phú", "H2", "Cấp huyện", "Cấp ủy", "", ""],  # 2: conflict, H1 is under TU
        ["N1", "Chi bộ mới", "HU99", "Chi bộ", "Chi bộ", "", ""],  # 3: unknown parent
        ["N2", "", "H1", "Chi bộ", "Chi bộ", "", "1/13/2025"],  # 4: empty name, bad date
        ["N2", "Chi bộ trùng", "H1", "Chi bộ", "Hội đồng", "", ""],  # 5: duplicate, unknown kind
        ["N3", "Tỉnh ủy thứ hai", "", "Tỉnh", "Cấp ủy", "", ""],  # 6: a second root
        ["N4", "Chi bộ hợp lệ", "H1B1", "Chi bộ", "Chi bộ", "", ""],  # 7: fine on its own
    ]
    path = write_xlsx(tmp_path / "donvi.xlsx", rows)
    with pytest.raises(ImportRejected) as caught:
        await import_units(db, path, default_valid_from=DEFAULT_DAY)
    lines = str(caught.value).splitlines()
    assert len(lines) == len(caught.value.problems) == 7
    assert lines[1] == 'donvi.xlsx, dòng 3, cột "ma_cap_tren": không có đơn vị mã "HU99"'
    assert lines[0].startswith('donvi.xlsx, dòng 2, cột "ma_cap_tren": xung đột: đơn vị mã "H1"')
    assert [(p.row, p.column) for p in caught.value.problems] == [
        (2, "ma_cap_tren"),
        (3, "ma_cap_tren"),
        (4, "ten"),
        (4, "hieu_luc_tu"),
        (5, "ma"),
        (5, "loai"),
        (6, "ma_cap_tren"),
    ]
    assert await counts(db) == before


async def test_d1a_code_of_a_closed_unit_cannot_be_reused(db: Database, tmp_path: Path) -> None:
    units = {u.code: u for u in small_sample_units()}
    await store(db, list(units.values()))
    tree = await tree_of(db)
    await store(db, merge(tree, [units["H2B2"].id], units["H2B1"], DEFAULT_DAY))
    path = write_csv(tmp_path / "donvi.csv", [HEADER, ["H2B2", "Chi bộ mới", "H2", "Cơ sở", "Cơ sở", "", ""]])
    with pytest.raises(
        ImportRejected, match=r'mã "H2B2" là của đơn vị .* đã giải thể hoặc sáp nhập từ ngày 01/07/2025'
    ):
        await import_units(db, path, default_valid_from=DEFAULT_DAY)


async def test_d1_unreadable_files_are_rejected(db: Database, tmp_path: Path) -> None:
    cases = {
        "donvi.txt": b"ma,ten\n",
        "donvi.csv": "ma,tên\n".encode("cp1258"),
        "rong.csv": b"\n\n",
        "hong.xlsx": b"not a zip file",
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ImportRejected) as caught:
            await import_units(db, tmp_path / name, default_valid_from=DEFAULT_DAY)
        assert caught.value.problems[0].file == name
        assert caught.value.problems[0].row is None
    assert await counts(db) == (0, 0)


async def test_d1_import_is_idempotent(db: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "donvi.csv", [HEADER, *GOOD_ROWS])
    assert await import_units(db, path, default_valid_from=DEFAULT_DAY) == ImportSummary(7, 0, 0)
    before = await counts(db)
    assert await import_units(db, path, default_valid_from=DEFAULT_DAY) == ImportSummary(0, 0, 7)
    assert await counts(db) == before, "a second import writes nothing, not even a new revision"


async def test_d1_partial_import_adds_under_existing_units(db: Database, tmp_path: Path) -> None:
    await store(db, small_sample_units())
    rows = [HEADER, ["H1B1C3", "Chi bộ thôn Nam Hòa", "H1B1", "Chi bộ", "Chi bộ", "", ""]]
    summary = await import_units(db, write_csv(tmp_path / "them.csv", rows), default_valid_from=DEFAULT_DAY)
    assert summary == ImportSummary(1, 0, 0)
    tree = await tree_of(db)
    assert tree.code_of(tree.parent_of(tree.by_code("H1B1C3").id)) == "H1B1"  # type: ignore[arg-type]


async def test_d1a_import_of_a_renamed_unit_keeps_the_old_name_for_the_past(db: Database, tmp_path: Path) -> None:
    await store(db, small_sample_units())
    rows = [
        HEADER,
        ["H1", "Đảng bộ khu vực An Phú", "TU", "Cấp huyện", "Cấp ủy", "", ""],
        ["H2", "Huyện ủy Bình Sơn", "TU", "Cấp huyện", "Cấp ủy", "có", ""],
        ["H2B1", "Đảng bộ xã Bình Minh", "H2", "Cơ sở", "Tổ chức cơ sở đảng", "", ""],
    ]
    path = write_csv(tmp_path / "doiten.csv", rows)
    summary = await import_units(db, path, default_valid_from=DEFAULT_DAY, changes_from=date(2025, 7, 1))
    assert summary == ImportSummary(created=0, updated=2, unchanged=1)
    now, past = await tree_of(db), await tree_of(db, date(2025, 6, 30))
    h1 = now.by_code("H1").id
    assert now.name_of(h1) == "Đảng bộ khu vực An Phú"
    assert past.name_of(h1) == "Huyện ủy An Phú"
    assert now.units[now.by_code("H2").id].armed_forces
    rows[1][1] = "Tên lùi ngày"
    with pytest.raises(ImportRejected, match="không thể ghi thay đổi sớm hơn"):
        await import_units(db, write_csv(path, rows), default_valid_from=DEFAULT_DAY, changes_from=date(2024, 1, 1))


async def test_d1_conflicting_valid_from_of_an_existing_unit(db: Database, tmp_path: Path) -> None:
    await store(db, small_sample_units())
    rows = [HEADER, ["H1", "Huyện ủy An Phú", "TU", "Cấp huyện", "Cấp ủy", "", "01/01/2021"]]
    with pytest.raises(ImportRejected) as caught:
        await import_units(db, write_csv(tmp_path / "d.csv", rows), default_valid_from=DEFAULT_DAY)
    assert caught.value.problems == [
        ImportProblem(
            "d.csv",
            2,
            "hieu_luc_tu",
            'xung đột: đơn vị mã "H1" đã có trong dữ liệu với ngày hiệu lực 01/01/2020; để trống ô này hoặc ghi đúng '
            "ngày đó",
        )
    ]


async def test_d1_round_trip_export_then_import(
    db: Database, tmp_path: Path, make_database_url: Callable[[str], Awaitable[str]]
) -> None:
    units = sample_units(seed=11, scale=0.03)
    await store(db, units)
    path = tmp_path / "xuat.xlsx"
    async with db.read() as conn:
        written = await export_units_xlsx(conn, path)
    assert written == len(units)
    assert len(read_unit_rows(path).rows) == len(units)
    before = await counts(db)
    assert await import_units(db, path, default_valid_from=DEFAULT_DAY) == ImportSummary(0, 0, len(units))
    assert await counts(db) == before

    other = Database(await make_database_url("sqlite" if db.sqlite else "postgresql"))
    try:
        assert (await import_units(other, path, default_valid_from=DEFAULT_DAY)).created == len(units)
        assert described(await tree_of(other)) == described(await tree_of(db))
        async with other.read() as conn:
            copied = {u.code: u.valid_from for u in await load_units(conn)}
        assert copied == {u.code: u.valid_from for u in units}
    finally:
        await other.dispose()


async def test_d1a_tree_as_of_past_dates_after_rename_move_merge(db: Database, tmp_path: Path) -> None:
    units = {u.code: u for u in small_sample_units()}
    await store(db, list(units.values()))

    renamed = rename(units["H1"], date(2023, 1, 1), name="Thành ủy An Phú", code="TP1")
    await store(db, [renamed])
    tree = await tree_of(db)
    await store(db, [move(tree, units["H1B2"].id, units["H2"].id, date(2024, 1, 1))])
    tree = await tree_of(db)
    merged = merge(tree, [units["H2"].id], tree.units[units["H1"].id], date(2025, 7, 1))
    await store(db, merged)

    def parent_code(t: Tree, code: str) -> str | None:
        parent = t.parent_of(units[code].id)
        return t.code_of(parent) if parent else None

    in_2022 = await tree_of(db, date(2022, 6, 1))
    assert in_2022.name_of(units["H1"].id) == "Huyện ủy An Phú"
    assert in_2022.code_of(units["H1"].id) == "H1"
    assert parent_code(in_2022, "H1B2") == "H1"
    assert parent_code(in_2022, "H2B1") == "H2"

    in_2023 = await tree_of(db, date(2023, 6, 1))
    assert (in_2023.code_of(units["H1"].id), in_2023.name_of(units["H1"].id)) == ("TP1", "Thành ủy An Phú")
    assert parent_code(in_2023, "H1B2") == "TP1"

    in_2024 = await tree_of(db, date(2024, 6, 1))
    assert parent_code(in_2024, "H1B2") == "H2"
    assert not in_2024.covers(units["H1"].id, units["H1B2"].id)
    assert in_2024.covers(units["H2"].id, units["H1B2"].id)

    now = await tree_of(db)
    assert units["H2"].id not in now.units
    assert {parent_code(now, c) for c in ("H1B2", "H2B1", "H2B2")} == {"TP1"}
    assert now.covers(units["H1"].id, units["H2B1C1"].id)

    async with db.read() as conn:
        held = {u.id: u for u in await load_units(conn)}
    assert held[units["H2"].id].valid_to == date(2025, 7, 1)
    assert held[units["H2"].id].successors == (units["H1"].id,)

    # The current tree exports and re-imports unchanged after all that history.
    path = tmp_path / "sau-sap-nhap.xlsx"
    async with db.read() as conn:
        await export_units_xlsx(conn, path)
    before = await counts(db)
    assert await import_units(db, path, default_valid_from=DEFAULT_DAY) == ImportSummary(0, 0, len(now.units))
    assert await counts(db) == before
