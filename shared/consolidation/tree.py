"""The tree a consolidation groups by: as it stood on the cut-off when units have a history (D1a), and sums over it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import ARRAY, Uuid, any_, bindparam, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from shared.core.scope import UnitInfo
from shared.db.meta import Id
from shared.domain.consolidation import (
    ProgrammeFigures,
    PropagandaFigures,
    StudyFigures,
    UnitRef,
)
from shared.domain.tree import Unit, UnitKind, tree_as_known
from shared.sync.tables import UnitRow
from shared.units.records import load_units

SEGMENT = 33
"""Characters one unit adds to a path: `/` and 32 hex digits."""
REPORTING_KINDS = (str(UnitKind.COMMITTEE), str(UnitKind.BASE_ORGANISATION))
"""Units expected to hold and report their own review (D21); cells report through their base organisation."""

units_table = UnitRow.__table__
T = TypeVar("T", StudyFigures, PropagandaFigures, ProgrammeFigures)
UUID_ARRAY = ARRAY(Uuid())


@dataclass(frozen=True, slots=True)
class Then:
    """`top`'s subtree as it stood on the cut-off (D1a): the group every unit's records count in, and its units."""

    top: UnitRef
    path: str
    """`top`'s path then."""
    counts_in: dict[uuid.UUID, str]
    """Every unit whose records count in the subtree (closed and later units too) → the path they count under."""
    units: dict[str, UnitRef]
    """The subtree's units then, by their path then, as they were named then."""
    reporting: list[tuple[uuid.UUID, str, int]]
    """Units expected to report their review (D21): id, path and depth then; armed forces plan their own (D3)."""

    def child(self, path: str) -> str:
        """The direct child subtree (or `top` itself) a path belongs to."""
        return path[: len(self.path) + SEGMENT]

    def group(self, by: Callable[[str], str]) -> Callable[[uuid.UUID], str]:
        return lambda unit: by(self.counts_in[unit])


async def tree_then(conn: AsyncConnection, top: UnitInfo, day: date) -> Then:
    """The subtree as it stood on `day`: straight from the stored paths unless some unit has a history (D1a)."""
    changed = await conn.scalar(
        select(func.count())
        .select_from(units_table)
        .where(
            units_table.c.deleted.is_(False),
            (units_table.c.valid_to.is_not(None)) | (func.json_array_length(units_table.c.versions) > 1),
        )
    )
    if changed:
        return _then_from_history(top, await load_units(conn), day)
    u = units_table
    stmt = select(u.c.id, u.c.code, u.c.name, u.c.level, u.c.depth, u.c.path, u.c.kind, u.c.armed_forces).where(
        u.c.path.startswith(top.path, autoescape=True), u.c.deleted.is_(False)
    )
    counts_in: dict[uuid.UUID, str] = {}
    units: dict[str, UnitRef] = {}
    reporting = []
    for row in await conn.execute(stmt):
        counts_in[row.id] = row.path
        units[row.path] = UnitRef(row.id, row.code, row.name, row.level, row.depth)
        if row.kind in REPORTING_KINDS and not row.armed_forces:
            reporting.append((row.id, row.path, row.depth))
    top_ref = units.get(top.path) or UnitRef(top.id, top.code, top.name, "", top.depth)
    return Then(top_ref, top.path, counts_in, units, reporting)


def _then_from_history(top: UnitInfo, held: list[Unit], day: date) -> Then:
    tree, counts_under = tree_as_known(held, day)
    if top.id not in tree.units:  # `top` did not exist yet: the figures can only follow today's tree
        tree, counts_under = tree_as_known(held, max(u.valid_from for u in held if u.id == top.id))
    top_path = tree.path(top.id)
    paths = {unit_id: tree.path(unit_id) for unit_id in tree.units}
    units: dict[str, UnitRef] = {}
    reporting = []
    for unit_id, path in paths.items():
        if not path.startswith(top_path):
            continue
        version = tree.version(unit_id)
        depth = path.count("/") - 2
        units[path] = UnitRef(unit_id, version.code, version.name, version.level, depth)
        if str(version.kind) in REPORTING_KINDS and not tree.units[unit_id].armed_forces:
            reporting.append((unit_id, path, depth))
    counts_in = {unit_id: paths[under] for unit_id, under in counts_under.items() if paths[under].startswith(top_path)}
    return Then(units[top_path], top_path, counts_in, units, reporting)


def among(conn: AsyncConnection, column: Any, ids: Iterable[uuid.UUID]) -> ColumnElement[bool]:
    """`column` is one of `ids`: one bound parameter whatever the count."""
    if conn.dialect.name == "postgresql":
        # An array: PostgreSQL then knows how many units match and hashes the join, where a path-prefix subquery
        # is estimated at a handful of units and planned as one index probe per essay.
        among: ColumnElement[bool] = column == any_(cast(literal(list(ids), UUID_ARRAY), UUID_ARRAY))
        return among
    # SQLite: an IN list of the 16-byte ids it stores (`shared.db.meta.Id`), rendered once per count of units.
    inside: ColumnElement[bool] = column.in_(bindparam("among", list(ids), expanding=True, type_=Id()))
    return inside


def rollup(per_unit: Mapping[uuid.UUID, T], group: Callable[[uuid.UUID], str]) -> dict[str, T]:
    """Add per-unit figures into groups (`group` names the group a unit's records count in)."""
    result: dict[str, T] = {}
    for unit, figures in per_unit.items():
        key = group(unit)
        held = result.get(key)
        result[key] = figures if held is None else held + figures
    return result
