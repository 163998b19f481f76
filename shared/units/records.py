"""The unit tree as a synced record type: owned by the root, addressed to each unit itself (D1, D4).

A unit's record therefore reaches that unit and its subtree, and every ancestor holds the records of its
descendants to relay them: a node knows its ancestors and its subtree, never a sibling.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.domain.tree import Tree, TreeError, Unit, UnitKind, Version
from shared.sync.registry import ROOT, Audience, Record, RecordType
from shared.sync.store import apply, from_row
from shared.sync.tables import UnitRow


class VersionWire(msgspec.Struct, frozen=True):
    since: date
    code: str
    name: str
    parent: uuid.UUID | None
    level: str
    kind: str


class UnitRecord(Record, frozen=True):
    code: str
    name: str
    level: str
    kind: str
    depth: int
    armed_forces: bool
    parent: uuid.UUID | None
    path: str
    valid_from: date
    valid_to: date | None
    successors: list[uuid.UUID]
    versions: list[VersionWire]


UNIT = RecordType(name="unit", struct=UnitRecord, model=UnitRow, ceiling=ROOT, audience=Audience.OWNER_SUBTREE)


def to_domain(rec: UnitRecord) -> Unit:
    return Unit(
        id=rec.id,
        armed_forces=rec.armed_forces,
        valid_from=rec.valid_from,
        valid_to=rec.valid_to,
        versions=tuple(
            Version(since=v.since, code=v.code, name=v.name, parent=v.parent, level=v.level, kind=UnitKind(v.kind))
            for v in rec.versions
        ),
        successors=tuple(rec.successors),
    )


def to_record(unit: Unit, *, root: uuid.UUID, rev: int, depth: int, path: str) -> UnitRecord:
    cur = unit.current
    return UnitRecord(
        id=unit.id,
        owner=root,
        audience=unit.id,
        rev=rev,
        deleted=False,
        code=cur.code,
        name=cur.name,
        level=cur.level,
        kind=str(cur.kind),
        depth=depth,
        armed_forces=unit.armed_forces,
        parent=cur.parent,
        path=path,
        valid_from=unit.valid_from,
        valid_to=unit.valid_to,
        successors=list(unit.successors),
        versions=[
            VersionWire(since=v.since, code=v.code, name=v.name, parent=v.parent, level=v.level, kind=str(v.kind))
            for v in unit.versions
        ],
    )


async def load_units(conn: AsyncConnection) -> list[Unit]:
    """Every unit held here, with its history."""
    rows = await conn.execute(select(*[UnitRow.__table__.c[n] for n in UNIT.columns]))
    return [to_domain(from_row(UNIT, r)) for r in rows]  # type: ignore[arg-type]


async def load_tree(conn: AsyncConnection, day: date | None = None) -> Tree:
    """The tree as it stands now, or as it stood on `day` (D1a)."""
    return Tree.of(await load_units(conn), day)


async def store_units(conn: AsyncConnection, changed: Sequence[Unit]) -> int:
    """Write new or edited units (only the root's node does: it owns the tree); returns how many rows were written.

    Paths and depths are recomputed for the whole current tree, so a move rewrites its subtree's records too.
    """
    held = {u.id: u for u in await load_units(conn)}
    held.update({u.id: u for u in changed})
    tree = Tree.of(held.values())
    roots = tree.roots
    if len(roots) != 1:
        raise TreeError(f"Cây đơn vị phải có đúng một gốc (Tỉnh ủy), đang có {len(roots)}")
    root = roots[0]
    stored = {
        r.id: (r.rev, r.path, r.depth)
        for r in await conn.execute(select(UnitRow.id, UnitRow.rev, UnitRow.path, UnitRow.depth))
    }
    changed_ids = {u.id for u in changed}
    records = []
    for unit in held.values():
        alive = unit.id in tree.units
        path = tree.path(unit.id) if alive else stored.get(unit.id, (0, "/" + unit.id.hex + "/", 0))[1]
        depth = tree.depth(unit.id) if alive else stored.get(unit.id, (0, "", 0))[2]
        rev, old_path, old_depth = stored.get(unit.id, (0, None, None))
        if unit.id in changed_ids or (path, depth) != (old_path, old_depth):
            records.append(to_record(unit, root=root, rev=rev + 1, depth=depth, path=path))
    await apply(conn, UNIT, records, origin=None)
    return len(records)
