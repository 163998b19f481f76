"""D1, D1a, D4: the pure tree — navigation, edits that keep history, the tree as of a date, visibility."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import date

import pytest

from shared.domain.tree import (
    Tree,
    TreeError,
    Unit,
    UnitKind,
    Version,
    close,
    merge,
    move,
    rename,
    split,
    tree_as_known,
)
from shared.ids import new_id
from shared.sample_province import SMALL_SAMPLE_SINCE, small_sample_units

BEFORE = date(2024, 12, 31)
CHANGE = date(2025, 7, 1)
AFTER = date(2025, 8, 1)


@pytest.fixture
def units() -> dict[str, Unit]:
    return {u.code: u for u in small_sample_units()}


@pytest.fixture
def tree(units: dict[str, Unit]) -> Tree:
    return Tree.of(units.values())


def codes(tree: Tree, ids: Iterable[uuid.UUID]) -> list[str]:
    return [tree.code_of(i) for i in ids]


def new_unit(code: str, parent: uuid.UUID | None, since: date = CHANGE) -> Unit:
    version = Version(since, code, f"Đơn vị {code}", parent, "Cấp huyện", UnitKind.COMMITTEE)
    return Unit(new_id(), False, since, None, (version,))


def test_d1_small_sample_has_stable_codes_and_one_root(tree: Tree) -> None:
    assert codes(tree, tree.roots) == ["TU"]
    assert sorted(tree.by_code(c).code for c in ("H1", "H2", "H1B1", "H1B2", "H2B1", "H2B2", "H1B1C1")) == sorted(
        ["H1", "H2", "H1B1", "H1B2", "H2B1", "H2B2", "H1B1C1"]
    )
    assert codes(tree, tree.children(tree.roots[0])) == ["H1", "H2"]


def test_d1_subtree_is_depth_first_and_includes_the_unit(tree: Tree, units: dict[str, Unit]) -> None:
    assert codes(tree, tree.subtree(units["H1"].id)) == ["H1", "H1B1", "H1B1C1", "H1B1C2", "H1B2"]
    assert codes(tree, tree.subtree(units["H2B2"].id)) == ["H2B2"]
    assert len(list(tree.subtree(units["TU"].id))) == len(units)


def test_d1_ancestors_path_and_depth(tree: Tree, units: dict[str, Unit]) -> None:
    cell = units["H1B1C1"].id
    assert codes(tree, tree.ancestors(cell)) == ["H1B1", "H1", "TU"]
    assert tree.depth(cell) == 3
    assert tree.depth(units["TU"].id) == 0
    assert tree.path(cell) == "/" + "/".join(units[c].id.hex for c in ("TU", "H1", "H1B1", "H1B1C1")) + "/"
    # A subtree is a prefix match on the path: the property the engine's scoped scans rely on.
    h1_path = tree.path(units["H1"].id)
    below = {tree.code_of(u) for u in tree.units if tree.path(u).startswith(h1_path)}
    assert below == set(codes(tree, tree.subtree(units["H1"].id)))


def test_d4_covers_own_subtree_only(tree: Tree, units: dict[str, Unit]) -> None:
    h1 = units["H1"].id
    assert tree.covers(h1, h1)
    assert tree.covers(h1, units["H1B1C2"].id)
    assert tree.covers(units["TU"].id, units["H2B1C1"].id)
    assert not tree.covers(h1, units["TU"].id), "a unit never sees its parent's data"


def test_d4_sibling_is_never_covered(tree: Tree, units: dict[str, Unit]) -> None:
    for a, b in [("H1", "H2"), ("H1B1", "H1B2"), ("H1B1C1", "H1B1C2"), ("H1B1", "H2B1")]:
        assert not tree.covers(units[a].id, units[b].id)
        assert not tree.covers(units[b].id, units[a].id)
    sibling_subtree = set(tree.subtree(units["H2"].id))
    assert not any(tree.covers(units["H1"].id, u) for u in sibling_subtree)


def test_by_code_refuses_an_unknown_code(tree: Tree) -> None:
    with pytest.raises(TreeError, match="HU99"):
        tree.by_code("HU99")


def test_d1a_rename_keeps_the_old_name_for_past_dates(units: dict[str, Unit]) -> None:
    renamed = rename(units["H1"], CHANGE, name="Đảng bộ xã An Phú mới", code="X001")
    assert len(renamed.versions) == 2
    assert renamed.version_on(BEFORE).name == "Huyện ủy An Phú"
    assert renamed.version_on(BEFORE).code == "H1"
    assert (renamed.name, renamed.code) == ("Đảng bộ xã An Phú mới", "X001")
    past = Tree.of([*units.values(), renamed], BEFORE)
    assert past.name_of(renamed.id) == "Huyện ủy An Phú"


def test_d1a_edit_before_the_last_change_is_refused(units: dict[str, Unit]) -> None:
    renamed = rename(units["H1"], CHANGE, name="Tên mới")
    with pytest.raises(TreeError, match="không thể ghi thay đổi"):
        rename(renamed, BEFORE, name="Tên cũ hơn")
    # A second edit on the same day replaces that day's version instead of stacking one more.
    again = rename(renamed, CHANGE, name="Tên mới hơn")
    assert [v.name for v in again.versions] == ["Huyện ủy An Phú", "Tên mới hơn"]


def test_d1a_move_changes_the_parent_from_the_day(tree: Tree, units: dict[str, Unit]) -> None:
    moved = move(tree, units["H1B2"].id, units["H2"].id, CHANGE)
    all_units = [u for u in units.values() if u.id != moved.id] + [moved]
    now, past = Tree.of(all_units), Tree.of(all_units, BEFORE)
    assert now.code_of(now.parent_of(moved.id)) == "H2"  # type: ignore[arg-type]
    assert past.code_of(past.parent_of(moved.id)) == "H1"  # type: ignore[arg-type]
    assert now.covers(units["H2"].id, moved.id)
    assert past.covers(units["H1"].id, moved.id)
    assert not past.covers(units["H2"].id, moved.id)


@pytest.mark.parametrize(("unit", "under"), [("H1", "H1"), ("H1", "H1B1"), ("H1", "H1B1C2"), ("TU", "H2B1")])
def test_d1a_move_refuses_a_cycle(tree: Tree, units: dict[str, Unit], unit: str, under: str) -> None:
    with pytest.raises(TreeError, match="cấp dưới của chính nó"):
        move(tree, units[unit].id, units[under].id, CHANGE)


def test_d1_tree_with_a_cycle_is_refused(units: dict[str, Unit]) -> None:
    h1 = units["H1"]
    looped = replace(h1, versions=(replace(h1.current, parent=units["H1B1"].id),))
    with pytest.raises(TreeError, match="vòng lặp"):
        Tree.of([*(u for u in units.values() if u.id != h1.id), looped])


def test_d1a_merge_closes_the_merged_unit_and_moves_its_children(tree: Tree, units: dict[str, Unit]) -> None:
    changed = merge(tree, [units["H2"].id], units["H1"], CHANGE)
    by_code = {u.code: u for u in changed}
    assert set(by_code) == {"H2", "H2B1", "H2B2"}
    assert by_code["H2"].valid_to == CHANGE
    assert by_code["H2"].successors == (units["H1"].id,)
    everything = {**units, **by_code}.values()
    now, past = Tree.of(everything), Tree.of(everything, BEFORE)
    assert units["H2"].id not in now.units
    assert codes(now, now.children(units["H1"].id)) == ["H1B1", "H1B2", "H2B1", "H2B2"]
    # The past tree still has H2 with its own children: its records stay attributable (D1a).
    assert codes(past, past.children(units["H2"].id)) == ["H2B1", "H2B2"]
    assert past.covers(units["H2"].id, units["H2B1C1"].id)
    assert not past.covers(units["H1"].id, units["H2B1C1"].id)
    assert now.covers(units["H1"].id, units["H2B1C1"].id)


def test_d1a_merge_into_a_new_unit(tree: Tree, units: dict[str, Unit]) -> None:
    into = new_unit("X001", units["TU"].id)
    changed = merge(tree, [units["H1"].id, units["H2"].id], into, CHANGE)
    now = Tree.of([*{**units, **{u.code: u for u in changed}}.values(), into])
    assert codes(now, now.children(units["TU"].id)) == ["X001"]
    assert codes(now, now.children(into.id)) == ["H1B1", "H1B2", "H2B1", "H2B2"]
    past = Tree.of([*{**units, **{u.code: u for u in changed}}.values(), into], BEFORE)
    assert into.id not in past.units
    assert codes(past, past.children(units["TU"].id)) == ["H1", "H2"]


def test_d1a_merge_refuses_a_unit_into_its_own_descendant(tree: Tree, units: dict[str, Unit]) -> None:
    with pytest.raises(TreeError, match="cấp dưới của chính nó"):
        merge(tree, [units["H1"].id], units["H1B1"], CHANGE)


def test_d1a_merge_into_a_new_unit_returns_it_to_be_stored(tree: Tree, units: dict[str, Unit]) -> None:
    into = new_unit("X002", units["TU"].id)
    assert into in merge(tree, [units["H1"].id], into, CHANGE)


def test_d1a_split_keeps_history_and_requires_every_child_placed(tree: Tree, units: dict[str, Unit]) -> None:
    a, b = new_unit("H1A", units["TU"].id), new_unit("H1B", units["TU"].id)
    with pytest.raises(TreeError, match="H1B2"):
        split(tree, units["H1"].id, {a.id: [units["H1B1"].id], b.id: []}, CHANGE)
    changed = split(tree, units["H1"].id, {a.id: [units["H1B1"].id], b.id: [units["H1B2"].id]}, CHANGE)
    closed = next(u for u in changed if u.id == units["H1"].id)
    assert closed.valid_to == CHANGE
    assert set(closed.successors) == {a.id, b.id}
    everything = [*{**units, **{u.code: u for u in changed}}.values(), a, b]
    now, past = Tree.of(everything), Tree.of(everything, BEFORE)
    assert now.code_of(now.parent_of(units["H1B1"].id)) == "H1A"  # type: ignore[arg-type]
    assert now.code_of(now.parent_of(units["H1B2"].id)) == "H1B"  # type: ignore[arg-type]
    assert past.code_of(past.parent_of(units["H1B2"].id)) == "H1"  # type: ignore[arg-type]
    assert a.id not in past.units


def test_d1a_close_refuses_bad_dates(units: dict[str, Unit]) -> None:
    with pytest.raises(TreeError, match="phải sau ngày thành lập"):
        close(units["H2B2"], SMALL_SAMPLE_SINCE)
    closed = close(units["H2B2"], CHANGE)
    with pytest.raises(TreeError, match="đã giải thể"):
        close(closed, AFTER)
    with pytest.raises(TreeError, match="không còn tồn tại"):
        rename(closed, AFTER, name="Sau khi giải thể")


def test_d1a_as_of_date_only_holds_units_alive_that_day(units: dict[str, Unit]) -> None:
    newcomer = new_unit("H3", units["TU"].id, since=CHANGE)
    closed = close(units["H2B2"], CHANGE)
    everything = [*(u for u in units.values() if u.id != closed.id), closed, newcomer]
    past, on_day, now = Tree.of(everything, BEFORE), Tree.of(everything, CHANGE), Tree.of(everything)
    assert newcomer.id not in past.units
    assert closed.id in past.units
    # valid_to is exclusive: on the day of the change the new unit exists and the closed one no longer does.
    assert newcomer.id in on_day.units
    assert closed.id not in on_day.units
    assert newcomer.id in now.units
    assert closed.id not in now.units
    assert Tree.of(everything, date(2019, 12, 31)).units == {}


def test_d1a_version_on_picks_the_version_in_force(units: dict[str, Unit]) -> None:
    unit = rename(rename(units["H1"], date(2023, 1, 1), name="Tên 2023"), CHANGE, name="Tên 2025")
    assert unit.version_on(date(2022, 6, 1)).name == "Huyện ủy An Phú"
    assert unit.version_on(date(2023, 1, 1)).name == "Tên 2023"
    assert unit.version_on(date(2025, 6, 30)).name == "Tên 2023"
    assert unit.version_on(CHANGE).name == "Tên 2025"


def test_d1a_records_of_a_merged_unit_count_under_it_before_the_merge_and_under_its_successor_after(
    tree: Tree, units: dict[str, Unit]
) -> None:
    changed = merge(tree, [units["H2"].id], units["H1"], CHANGE)
    everything = list({**units, **{u.code: u for u in changed}}.values())
    past, counts_then = tree_as_known(everything, BEFORE)
    assert counts_then[units["H2"].id] == units["H2"].id
    assert codes(past, past.children(units["H2"].id)) == ["H2B1", "H2B2"]
    now, counts_now = tree_as_known(everything, AFTER)
    assert counts_now[units["H2"].id] == units["H1"].id
    assert now.covers(units["H1"].id, units["H2B1C1"].id)


def test_d1a_records_of_a_unit_split_off_later_count_under_the_unit_it_came_from(
    tree: Tree, units: dict[str, Unit]
) -> None:
    a, b = new_unit("H1A", units["TU"].id), new_unit("H1B", units["TU"].id)
    changed = split(tree, units["H1"].id, {a.id: [units["H1B1"].id], b.id: [units["H1B2"].id]}, CHANGE)
    everything = [*{**units, **{u.code: u for u in changed}}.values(), a, b]
    past, counts_then = tree_as_known(everything, BEFORE)
    assert a.id not in past.units
    assert counts_then[a.id] == counts_then[b.id] == units["H1"].id
    _, counts_now = tree_as_known(everything, AFTER)
    assert counts_now[units["H1"].id] in {a.id, b.id}


def test_d1a_the_tree_as_first_entered_stands_for_the_years_before_but_a_later_unit_does_not(
    units: dict[str, Unit],
) -> None:
    newcomer = new_unit("H3", units["TU"].id, since=CHANGE)
    before_entry = date(SMALL_SAMPLE_SINCE.year - 3, 1, 1)
    past, counts = tree_as_known([*units.values(), newcomer], before_entry)
    assert set(past.units) == {u.id for u in units.values()}
    assert newcomer.id not in counts
    assert past.path(units["H1B1C1"].id) == Tree.of(units.values()).path(units["H1B1C1"].id)
