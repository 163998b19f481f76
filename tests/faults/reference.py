"""What every node should hold, computed from the records created and the flow rules alone (ARCHITECTURE.md).

The rules, restated independently of the engine's SQL so that a mistake there shows up as a difference here:
a record is held by its owner's node; by each ancestor of the owner up to its type's ceiling (a roster stops at the
parent, grades and documents go to the root); and, if it has an audience, by every unit in the audience's subtree and
every ancestor of the audience (a district relays what is addressed to its cells). Nothing travels sideways.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from shared.db.engine import Database
from shared.sync import store
from shared.sync.registry import Record, RecordType, Registry
from shared.sync.tables import UnitRow

Version = tuple[int, bool, int]
"""(rev, deleted, content hash) of one record as held."""

Holding = dict[str, dict[uuid.UUID, Version]]
"""Per record type name, what a node holds."""


@dataclass(frozen=True, slots=True)
class Place:
    path: str
    depth: int


def _contains(outer: Place, inner: Place) -> bool:
    """Whether `inner` is `outer` or lies in its subtree."""
    return inner.path.startswith(outer.path)


@dataclass
class Reference:
    """The latest version of every record created in a test, and where each should be."""

    places: dict[uuid.UUID, Place]
    registry: Registry
    records: dict[uuid.UUID, tuple[RecordType, Record]] = field(default_factory=dict)

    @classmethod
    async def from_hub(cls, hub: Database, registry: Registry) -> Reference:
        """Places from the hub's unit tree; the tree's own records are the first ones the reference knows."""
        async with hub.read() as conn:
            rows = (await conn.execute(select(UnitRow.id, UnitRow.path, UnitRow.depth))).all()
        ref = cls({r.id: Place(r.path, r.depth) for r in rows}, registry)
        unit_type = registry["unit"]
        async with hub.read() as conn:
            unit_ids = [r.id for r in rows]
            ref.put_all(unit_type, [rec for _, rec in await store.fetch(conn, unit_type, unit_ids)])
        return ref

    def put(self, rt: RecordType, rec: Record) -> None:
        """Note a version the owner wrote; an older one never replaces a newer."""
        held = self.records.get(rec.id)
        if held is None or held[1].rev < rec.rev:
            self.records[rec.id] = (rt, rec)

    def put_all(self, rt: RecordType, recs: Iterable[Record]) -> None:
        for rec in recs:
            self.put(rt, rec)

    def latest(self, record_id: uuid.UUID) -> Record:
        return self.records[record_id][1]

    def holds(self, holder: uuid.UUID, rt: RecordType, rec: Record) -> bool:
        me, owner = self.places[holder], self.places[rec.owner]
        if holder == rec.owner:
            return True
        if _contains(me, owner) and rt.may_reach(owner.depth, me.depth):
            return True
        if rec.audience is not None:
            audience = self.places[rec.audience]
            return _contains(audience, me) or _contains(me, audience)
        return False

    def expected(self, holder: uuid.UUID) -> Holding:
        out: Holding = {rt.name: {} for rt in self.registry}
        for rt, rec in self.records.values():
            if self.holds(holder, rt, rec):
                out[rt.name][rec.id] = (rec.rev, rec.deleted, store.wire_hash(store.encode_record(rec)))
        return out


async def holding(db: Database, registry: Registry, only: set[uuid.UUID] | None = None) -> Holding:
    """What a node holds now, per type (restricted to `only` ids, when given)."""
    out: Holding = {}
    async with db.read() as conn:
        for rt in registry:
            table = rt.table
            rows = await conn.execute(select(table.c.id, table.c.rev, table.c.deleted, table.c.hash))
            out[rt.name] = {r.id: (r.rev, r.deleted, r.hash) for r in rows if only is None or r.id in only}
    return out


def differences(expected: Holding, held: Holding, names: dict[uuid.UUID, str] | None = None) -> list[str]:
    """Plain lines naming each record missing, unexpected or at another version; empty when they agree."""
    names = names or {}
    lines: list[str] = []
    for type_name in sorted(set(expected) | set(held)):
        want, have = expected.get(type_name, {}), held.get(type_name, {})
        for rid in sorted(set(want) | set(have), key=str):
            label = f"{type_name} {names.get(rid, str(rid)[-12:])}"
            if rid not in have:
                lines.append(f"missing {label} (rev {want[rid][0]})")
            elif rid not in want:
                lines.append(f"should not hold {label} (rev {have[rid][0]})")
            elif want[rid] != have[rid]:
                lines.append(f"{label}: holds rev/deleted {have[rid][:2]}, expected {want[rid][:2]}")
    return lines
