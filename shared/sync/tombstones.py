"""Tombstone collection (ARCHITECTURE.md): a deleted record's tombstone is kept until every child that should see it
has acknowledged past it, and until an upstream has acknowledged it; then its row is dropped.

Who should see a tombstone is taken wide, a superset of the pull scope, so it is never dropped too early: every
active child whose subtree holds the record's owner, or whose unit is at, above or below the record's audience.
A child not heard from for `SyncSettings.tombstone_grace_days` stops holding back the tombstones of records owned
outside its subtree: on its return it would only purge its copies, and the collection horizon (the highest seq
collected, kept in `feed_counter`) makes it verify by digest before it pulls on. It still holds back those owned in
its subtree: a repair would make it push its live copy again, which would bring the record back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, and_, bindparam, delete, exists, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from shared.db.engine import Database
from shared.sync import store
from shared.sync.registry import RecordType, Registry
from shared.sync.tables import ChildNode, FeedCounter, UnitRow, Upstream


@dataclass(frozen=True, slots=True)
class Collection:
    """What one collection did: tombstones dropped per type, up to which seq it looked, the horizon after it."""

    upto: int
    horizon: int
    dropped: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.dropped.values())


async def collect_tombstones(db: Database, registry: Registry, *, grace: timedelta, now: datetime) -> Collection:
    """Drop every tombstone that each child that should see it has acknowledged (see the module's docstring)."""
    async with db.write() as conn:
        return await collect_in(conn, registry, grace=grace, now=now)


async def collect_in(conn: AsyncConnection, registry: Registry, *, grace: timedelta, now: datetime) -> Collection:
    head = await store.head(conn)
    upstreams, pushed = (await conn.execute(select(func.count(), func.max(Upstream.push_cursor)))).one()
    # A node keeps a tombstone until one of its upstreams acknowledged it: the deletion must reach an ancestor,
    # which then keeps it for everyone below (a node's own children are checked below like the hub's).
    upto = head if not upstreams else min(head, int(pushed or 0))
    params = {"upto": upto, "since": now - grace}
    dropped: dict[str, int] = {}
    top = 0
    for rt in registry:
        if rt.table is UnitRow.__table__:
            continue  # the tree is every scope's frame of reference: a unit's row is never dropped
        found = (await conn.execute(_collectable(rt), params)).all()
        if not found:
            continue
        table = rt.table
        ids = [r.id for r in found]
        count = 0
        for i in range(0, len(ids), 500):
            # Still a tombstone, still at or below `upto`: a version written meanwhile (a new seq) stays.
            result = await conn.execute(
                delete(table).where(table.c.id.in_(ids[i : i + 500]), table.c.deleted.is_(True), table.c.seq <= upto)
            )
            count += int(result.rowcount or 0)
        dropped[rt.name] = count
        top = max(top, max(int(r.seq) for r in found))
    horizon = await raise_horizon(conn, top)
    return Collection(upto=upto, horizon=horizon, dropped=dropped)


async def raise_horizon(conn: AsyncConnection, seq: int) -> int:
    """Make children whose pull cursor is below `seq` verify before pulling on; returns the horizon now."""
    if seq > 0:
        await conn.execute(
            update(FeedCounter).where(FeedCounter.id == 1, FeedCounter.collected < seq).values(collected=seq)
        )
    return int((await conn.execute(select(FeedCounter.collected).where(FeedCounter.id == 1))).scalar_one())


async def mark_purged(conn: AsyncConnection) -> None:
    """Copies were forgotten here without a tombstone (a repair's purge): this node's children must verify too."""
    await raise_horizon(conn, await store.take_seqs(conn, 1))


_cache: dict[str, Any] = {}


def _collectable(rt: RecordType) -> Any:
    """(id, seq) of the type's tombstones at or below `upto` that no child still waits for; built once per type."""
    found = _cache.get(rt.name)
    if found is not None:
        return found
    table = rt.table
    units = UnitRow.__table__
    owner, aud, at = aliased(units, name="o"), aliased(units, name="a"), aliased(units, name="cu")
    child = ChildNode.__table__
    owned_below = owner.c.path.startswith(at.c.path, autoescape=False)
    related = and_(
        table.c.audience.is_not(None),
        or_(at.c.path.startswith(aud.c.path, autoescape=False), aud.c.path.startswith(at.c.path, autoescape=False)),
    )
    heard = func.coalesce(child.c.last_contact, child.c.enrolled_at) >= bindparam(
        "since", type_=DateTime(timezone=True)
    )
    waiting = (
        select(literal(1))
        .select_from(child.join(at, at.c.id == child.c.unit))
        .where(child.c.revoked_at.is_(None), child.c.acked_pull < table.c.seq, or_(owned_below, and_(heard, related)))
    )
    stmt = (
        select(table.c.id, table.c.seq)
        .select_from(table.join(owner, owner.c.id == table.c.owner).outerjoin(aud, aud.c.id == table.c.audience))
        .where(table.c.deleted.is_(True), table.c.seq <= bindparam("upto"), ~exists(waiting))
    )
    _cache[rt.name] = stmt
    return stmt
