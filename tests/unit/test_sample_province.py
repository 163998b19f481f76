"""The synthetic province: the size of the real one (DOMAIN.md, "Scale"), both branch shapes (D1), armed forces (D3)."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from shared.domain.tree import Tree, Unit, UnitKind
from shared.sample_province import (
    LEVEL_BASE,
    LEVEL_CELL,
    SAMPLE_ROOT_CODE,
    SAMPLE_ROOT_NAME,
    sample_units,
    small_sample_units,
)


def shape(units: list[Unit]) -> list[tuple[str, str, str | None, str, UnitKind, bool]]:
    """Everything but the ids (fresh UUIDv7s on every call): code, name, parent code, level, kind, armed forces."""
    code = {u.id: u.code for u in units}
    return [(u.code, u.name, code.get(u.parent) if u.parent else None, u.level, u.kind, u.armed_forces) for u in units]


def branch_levels(tree: Tree) -> Counter[int]:
    """How many directly-subordinate branches have 3, 4, ... levels counting the province."""
    root = tree.roots[0]
    return Counter(1 + max(tree.depth(u) for u in tree.subtree(child)) for child in tree.children(root))


@pytest.fixture(scope="module")
def province() -> list[Unit]:
    return sample_units()


def test_scale_full_province_has_the_size_of_the_real_one(province: list[Unit]) -> None:
    tree = Tree.of(province)
    root = tree.roots[0]
    direct = tree.children(root)
    kinds = Counter(u.kind for u in province)
    assert 95 <= len(direct) <= 110
    assert 1_700 <= kinds[UnitKind.BASE_ORGANISATION] <= 2_300
    assert 5_500 <= kinds[UnitKind.CELL] <= 6_500
    assert kinds[UnitKind.COMMITTEE] == len(direct) + 1
    assert Counter(u.level for u in province)[LEVEL_BASE] == kinds[UnitKind.BASE_ORGANISATION]
    assert Counter(u.level for u in province)[LEVEL_CELL] == kinds[UnitKind.CELL]


def test_d1_root_is_named_as_synthetic(province: list[Unit]) -> None:
    root = Tree.of(province).roots[0]
    assert province[0].id == root
    assert (province[0].code, province[0].name) == (SAMPLE_ROOT_CODE, SAMPLE_ROOT_NAME)
    assert "mô phỏng" in SAMPLE_ROOT_NAME


def test_d1_both_three_and_four_level_branches(province: list[Unit]) -> None:
    levels = branch_levels(Tree.of(province))
    assert set(levels) == {3, 4}
    assert levels[3] > 50, "most branches are communes and wards after 2025"
    assert levels[4] >= 3


def test_d1_codes_are_unique_and_follow_the_pattern(province: list[Unit]) -> None:
    codes = [u.code for u in province]
    assert len(set(codes)) == len(codes)
    tree = Tree.of(province)
    for unit in province:
        depth = tree.depth(unit.id)
        if unit.kind is UnitKind.CELL:
            assert unit.code.startswith("CB")
            assert len(unit.code) == 7
        elif unit.kind is UnitKind.BASE_ORGANISATION:
            assert unit.code.startswith("CS")
            assert len(unit.code) == 6
        elif depth == 1:
            assert unit.code.startswith("X")
            assert len(unit.code) == 4


def test_d1_names_are_vietnamese_and_unique_under_a_parent(province: list[Unit]) -> None:
    seen = Counter((u.parent, u.name) for u in province)
    assert [key for key, n in seen.items() if n > 1] == []
    assert all(u.name.startswith(("Chi bộ ", "Đảng bộ ", "Đảng ủy ", "Tỉnh ủy ")) for u in province)


def test_d3_armed_forces_branches_are_flagged_down_to_their_cells(province: list[Unit]) -> None:
    tree = Tree.of(province)
    root = tree.roots[0]
    armed = [c for c in tree.children(root) if tree.units[c].armed_forces]
    names = {tree.name_of(c) for c in armed}
    assert {"Đảng ủy Quân sự tỉnh", "Đảng ủy Công an tỉnh"} <= names
    for branch in armed:
        assert all(tree.units[u].armed_forces for u in tree.subtree(branch))
    flagged = {u for branch in armed for u in tree.subtree(branch)}
    assert all(not u.armed_forces for u in province if u.id not in flagged)


def test_sample_is_deterministic_for_a_seed() -> None:
    assert shape(sample_units(seed=7, scale=0.1)) == shape(sample_units(seed=7, scale=0.1))
    assert shape(sample_units(seed=7, scale=0.1)) != shape(sample_units(seed=8, scale=0.1))


@pytest.mark.parametrize("scale", [0.02, 0.05, 0.2])
def test_scale_shrinks_but_keeps_every_shape(scale: float) -> None:
    units = sample_units(scale=scale)
    tree = Tree.of(units)
    assert len(units) < 8_000 * scale * 2 + 50
    assert set(branch_levels(tree)) == {3, 4}
    assert any(u.armed_forces for u in units)
    assert Counter(u.kind for u in units).keys() == {UnitKind.COMMITTEE, UnitKind.BASE_ORGANISATION, UnitKind.CELL}


def test_scale_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        sample_units(scale=0)


def test_full_scale_generation_is_fast() -> None:
    started = time.perf_counter()
    sample_units(seed=3)
    assert time.perf_counter() - started < 2.0


def test_d1_small_sample_has_the_documented_codes() -> None:
    units = small_sample_units()
    tree = Tree.of(units)
    parent = {u.code: (tree.code_of(u.parent) if u.parent else None) for u in units}
    assert parent == {
        "TU": None,
        "H1": "TU",
        "H2": "TU",
        "H1B1": "H1",
        "H1B2": "H1",
        "H2B1": "H2",
        "H2B2": "H2",
        "H1B1C1": "H1B1",
        "H1B1C2": "H1B1",
        "H2B1C1": "H2B1",
    }
    assert shape(units) == shape(small_sample_units())
