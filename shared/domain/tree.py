"""The organisation tree (D1, D1a, D2, D3, D4) as plain values: subtree, ancestors, the tree as of a date, edits.

Depth is data: a branch may be province → district → base → cell, or province → commune → cell (D1).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date


class UnitKind(enum.StrEnum):
    """What a unit is (D1, D2); the level label (province, district, base) is separate data."""

    COMMITTEE = "committee"  # cấp ủy: Tỉnh ủy, Huyện ủy, Đảng ủy xã ...
    BASE_ORGANISATION = "base_organisation"  # tổ chức cơ sở đảng: đảng bộ cơ sở, chi bộ cơ sở
    CELL = "cell"  # chi bộ trực thuộc
    PARTY_DELEGATION = "party_delegation"  # đảng đoàn
    CADRE_BOARD = "cadre_board"  # ban cán sự đảng
    MASS_ORGANISATION = "mass_organisation"  # Mặt trận, Đoàn, Hội

    @property
    def label_vi(self) -> str:
        return KIND_LABELS_VI[self]


KIND_LABELS_VI: Mapping[UnitKind, str] = {
    UnitKind.COMMITTEE: "Cấp ủy",
    UnitKind.BASE_ORGANISATION: "Tổ chức cơ sở đảng",
    UnitKind.CELL: "Chi bộ",
    UnitKind.PARTY_DELEGATION: "Đảng đoàn",
    UnitKind.CADRE_BOARD: "Ban cán sự đảng",
    UnitKind.MASS_ORGANISATION: "Tổ chức chính trị - xã hội",
}


class TreeError(ValueError):
    """An edit or query the tree cannot satisfy; the message is meant for the user."""


@dataclass(frozen=True, slots=True)
class Version:
    """One period of a unit's life during which its code, name, parent and labels stayed the same (D1a)."""

    since: date
    code: str
    name: str
    parent: uuid.UUID | None
    level: str
    kind: UnitKind


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit with its whole history; `versions` is ordered by `since`, the last one is current."""

    id: uuid.UUID
    armed_forces: bool
    valid_from: date
    valid_to: date | None
    versions: tuple[Version, ...]
    successors: tuple[uuid.UUID, ...] = ()

    @property
    def current(self) -> Version:
        return self.versions[-1]

    @property
    def code(self) -> str:
        return self.current.code

    @property
    def name(self) -> str:
        return self.current.name

    @property
    def parent(self) -> uuid.UUID | None:
        return self.current.parent

    @property
    def kind(self) -> UnitKind:
        return self.current.kind

    @property
    def level(self) -> str:
        return self.current.level

    def alive_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)

    def version_on(self, day: date) -> Version:
        chosen = self.versions[0]
        for v in self.versions:
            if v.since <= day:
                chosen = v
        return chosen

    def with_version(self, day: date, **changes: object) -> Unit:
        """A copy whose current version changes from `day` on; a change on the day a version starts replaces it."""
        if not self.alive_on(day):
            raise TreeError(f"Đơn vị {self.code} không còn tồn tại vào ngày {day:%d/%m/%Y}")
        if day < self.current.since:
            raise TreeError(
                f"Đơn vị {self.code} đã có thay đổi từ ngày {self.current.since:%d/%m/%Y}; không thể ghi thay đổi "
                f"sớm hơn ({day:%d/%m/%Y})"
            )
        new = replace(self.current, since=day, **changes)  # type: ignore[arg-type]
        versions = self.versions[:-1] if self.current.since == day else self.versions
        return replace(self, versions=(*versions, new))


@dataclass(frozen=True)
class Tree:
    """A set of units (alive ones as of some day) with parent/child navigation and materialised paths.

    Paths are strings of hex ids, `/<root>/<child>/.../`: a subtree is a prefix match on one indexed column, and a
    move (rare: the province edits the tree) rewrites at most the 10,000 paths below it. A closure table would cost
    tens of thousands of rows and a join on every feed query for no gain at this size.
    """

    units: Mapping[uuid.UUID, Unit]
    day: date | None = None
    _children: dict[uuid.UUID | None, list[uuid.UUID]] = field(init=False, repr=False, compare=False)
    _parent: dict[uuid.UUID, uuid.UUID | None] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        children: dict[uuid.UUID | None, list[uuid.UUID]] = {}
        parents: dict[uuid.UUID, uuid.UUID | None] = {}
        for u in self.units.values():
            parent = u.version_on(self.day).parent if self.day else u.parent
            if parent is not None and parent not in self.units:
                parent = None if self.day is None else parent
            parents[u.id] = parent
            children.setdefault(parent, []).append(u.id)
        for ids in children.values():
            ids.sort(key=lambda i: self.code_of(i))
        object.__setattr__(self, "_children", children)
        object.__setattr__(self, "_parent", parents)
        self._check_acyclic()

    @classmethod
    def of(cls, units: Iterable[Unit], day: date | None = None) -> Tree:
        """The tree of units alive on `day` (all units' current state when None)."""
        if day is None:
            return cls({u.id: u for u in units if u.valid_to is None})
        return cls({u.id: u for u in units if u.alive_on(day)}, day)

    def _check_acyclic(self) -> None:
        for start in self.units:
            seen: set[uuid.UUID] = set()
            node: uuid.UUID | None = start
            while node is not None:
                if node in seen:
                    raise TreeError(f"Cây đơn vị có vòng lặp tại {self.code_of(start)}")
                seen.add(node)
                node = self._parent.get(node)

    def version(self, unit_id: uuid.UUID) -> Version:
        u = self.units[unit_id]
        return u.version_on(self.day) if self.day else u.current

    def code_of(self, unit_id: uuid.UUID) -> str:
        u = self.units[unit_id]
        return (u.version_on(self.day) if self.day else u.current).code

    def name_of(self, unit_id: uuid.UUID) -> str:
        return self.version(unit_id).name

    def parent_of(self, unit_id: uuid.UUID) -> uuid.UUID | None:
        return self._parent[unit_id]

    @property
    def roots(self) -> list[uuid.UUID]:
        return list(self._children.get(None, []))

    def children(self, unit_id: uuid.UUID) -> list[uuid.UUID]:
        return list(self._children.get(unit_id, []))

    def ancestors(self, unit_id: uuid.UUID) -> list[uuid.UUID]:
        """From the parent up to the root."""
        out: list[uuid.UUID] = []
        node = self._parent[unit_id]
        while node is not None:
            out.append(node)
            node = self._parent.get(node)
        return out

    def depth(self, unit_id: uuid.UUID) -> int:
        return len(self.ancestors(unit_id))

    def path(self, unit_id: uuid.UUID) -> str:
        chain = [unit_id, *self.ancestors(unit_id)]
        return "/" + "/".join(u.hex for u in reversed(chain)) + "/"

    def subtree(self, unit_id: uuid.UUID) -> Iterator[uuid.UUID]:
        """The unit and every unit below it, depth first."""
        stack = [unit_id]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(self._children.get(node, [])))

    def covers(self, ancestor: uuid.UUID, unit_id: uuid.UUID) -> bool:
        """Whether `unit_id` is `ancestor` or below it (D4: a unit sees its own subtree)."""
        return unit_id == ancestor or ancestor in self.ancestors(unit_id)

    def by_code(self, code: str) -> Unit:
        for u in self.units.values():
            if self.code_of(u.id) == code:
                return u
        raise TreeError(f"Không có đơn vị mã {code!r}")


# Edits: each returns the units it changed (new snapshots), so the caller stores exactly those.


def rename(unit: Unit, day: date, *, name: str | None = None, code: str | None = None) -> Unit:
    changes: dict[str, object] = {}
    if name is not None:
        changes["name"] = name
    if code is not None:
        changes["code"] = code
    return unit.with_version(day, **changes)


def move(tree: Tree, unit_id: uuid.UUID, new_parent: uuid.UUID, day: date) -> Unit:
    """Move a unit (and so its subtree) under another parent from `day` (D1a)."""
    if tree.covers(unit_id, new_parent):
        raise TreeError(f"Không thể chuyển {tree.code_of(unit_id)} vào đơn vị cấp dưới của chính nó")
    return tree.units[unit_id].with_version(day, parent=new_parent)


def close(unit: Unit, day: date, successors: Iterable[uuid.UUID] = ()) -> Unit:
    """End a unit's life on `day`; its records stay attributable to it (D1a)."""
    if not unit.alive_on(day):
        raise TreeError(f"Đơn vị {unit.code} đã giải thể hoặc sáp nhập trước ngày {day:%d/%m/%Y}")
    if day <= unit.valid_from:
        raise TreeError(f"Ngày kết thúc của {unit.code} phải sau ngày thành lập")
    return replace(unit, valid_to=day, successors=tuple(successors))


def merge(tree: Tree, merged: Iterable[uuid.UUID], into: Unit, day: date) -> list[Unit]:
    """Merge units into `into` (an existing unit, or a new one starting on `day`): close them, move their children.

    The result includes `into` when it is new, so storing the result stores every unit the merge touched.
    """
    out: list[Unit] = [] if into.id in tree.units else [into]
    for unit_id in merged:
        if unit_id == into.id:
            continue
        if into.id in tree.units and tree.covers(unit_id, into.id):
            raise TreeError(
                f"Không thể sáp nhập {tree.code_of(unit_id)} vào đơn vị cấp dưới của chính nó ({into.code})"
            )
        out.append(close(tree.units[unit_id], day, (into.id,)))
        out.extend(tree.units[c].with_version(day, parent=into.id) for c in tree.children(unit_id))
    return out


def split(tree: Tree, unit_id: uuid.UUID, parts: Mapping[uuid.UUID, Iterable[uuid.UUID]], day: date) -> list[Unit]:
    """Split a unit into new units `parts` (id → the children it takes over); every child must go somewhere.

    The new units themselves are the caller's to create and store with the result (only their ids are needed here).
    """
    children = set(tree.children(unit_id))
    assigned = [c for kids in parts.values() for c in kids]
    if sorted(assigned) != sorted(children):
        missing = children - set(assigned)
        raise TreeError(
            f"Khi chia tách {tree.code_of(unit_id)}, mỗi đơn vị trực thuộc phải thuộc đúng một đơn vị mới"
            + (f" (chưa phân: {', '.join(sorted(tree.code_of(m) for m in missing))})" if missing else "")
        )
    out = [close(tree.units[unit_id], day, tuple(parts))]
    for new_id, kids in parts.items():
        out.extend(tree.units[c].with_version(day, parent=new_id) for c in kids)
    return out


def tree_as_known(units: Iterable[Unit], day: date) -> tuple[Tree, dict[uuid.UUID, uuid.UUID]]:
    """The tree as it stood on `day` (D1a), and for every unit the unit of that tree its records count under.

    The system's history starts when the tree was entered: a unit of that first import stands for itself before
    it too (its first version describes it); a unit founded later did not exist before its founding. A unit
    closed by `day` counts under its successor; a unit made after `day` from others (a merge into a new unit, a
    split) counts under the unit it came from. A unit with neither is missing from the map.
    """
    held = {u.id: u for u in units}
    made_from: dict[uuid.UUID, list[uuid.UUID]] = {}
    for u in held.values():
        for s in u.successors:
            made_from.setdefault(s, []).append(u.id)
    entered = min((u.valid_from for u in held.values()), default=day)
    known = {
        u.id: u for u in held.values() if u.alive_on(day) or (day < u.valid_from == entered and u.id not in made_from)
    }
    tree = Tree(known, day)

    def resolve(unit_id: uuid.UUID, seen: set[uuid.UUID]) -> uuid.UUID | None:
        if unit_id in known:
            return unit_id
        seen.add(unit_id)
        unit = held.get(unit_id)
        if unit is None:
            return None
        later = unit.valid_to is not None and unit.valid_to <= day
        for nxt in (*unit.successors, *made_from.get(unit_id, ())) if later else made_from.get(unit_id, ()):
            found = None if nxt in seen else resolve(nxt, seen)
            if found is not None:
                return found
        return None

    counts_under = {}
    for unit_id in held:
        found = resolve(unit_id, set())
        if found is not None:
            counts_under[unit_id] = found
    return tree, counts_under
