"""Roster counts (D12, D26): how many members of each unit must or may write, kept current with every roster
write so that levels above the roster's ceiling can count participation."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.domain.obligations import OBLIGED
from shared.members.records import MEMBER
from shared.members.rosters import ROSTER_COUNT, RosterCountRecord, roster_count_id
from shared.sync import store


async def refresh_roster_counts(conn: AsyncConnection, as_of: date) -> int:
    """Publish the member counts of every roster written on this instance (D12, D26); returns records revised.

    Only rosters written here (no origin) are counted: their unit's instance is the single writer of its count.
    """
    m = MEMBER.table
    stmt = (
        select(m.c.owner, m.c.obligation, func.count().label("n"))
        .where(m.c.deleted.is_(False), m.c.origin.is_(None))
        .group_by(m.c.owner, m.c.obligation)
    )
    per_unit: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    for row in await conn.execute(stmt):
        per_unit[row.owner][row.obligation] = int(row.n)
    written_here = select(m.c.owner).where(m.c.origin.is_(None)).distinct()
    for owner in (await conn.execute(written_here)).scalars():
        per_unit.setdefault(owner, {})
    if not per_unit:
        return 0
    rc = ROSTER_COUNT.table
    ids = {roster_count_id(owner): owner for owner in per_unit}
    held = {
        row.id: row
        for row in await conn.execute(select(*[rc.c[n] for n in ROSTER_COUNT.columns]).where(rc.c.id.in_(list(ids))))
    }
    changed = [
        rec
        for rid, owner in ids.items()
        if (rec := _revised_count(owner, per_unit[owner], held.get(rid), as_of)) is not None
    ]
    await store.apply(conn, ROSTER_COUNT, changed, origin=None)
    return len(changed)


def _revised_count(owner: uuid.UUID, counts: dict[str, int], old: Any, as_of: date) -> RosterCountRecord | None:
    """The next version of a unit's count record, or None when the held version already says the same."""
    obliged = counts.get(OBLIGED, 0)
    encouraged = sum(v for k_, v in counts.items() if k_ != OBLIGED)
    if old is not None and (old.obliged, old.encouraged, dict(old.by_category)) == (obliged, encouraged, counts):
        return None
    return RosterCountRecord(
        id=roster_count_id(owner),
        owner=owner,
        audience=None,
        rev=(old.rev if old is not None else 0) + 1,
        deleted=False,
        as_of=as_of,
        obliged=obliged,
        encouraged=encouraged,
        by_category=counts,
    )


async def refresh_roster_count(conn: AsyncConnection, owner: uuid.UUID, as_of: date) -> bool:
    """Publish one unit's member counts in the transaction that changed its roster (D12, D26); True if revised.

    Cheap enough for every roster write: one GROUP BY over the owner's members (indexed) and one key lookup.
    As in `refresh_roster_counts`, only members written here count: this instance is the roster's single writer.
    """
    m = MEMBER.table
    stmt = (
        select(m.c.obligation, func.count().label("n"))
        .where(m.c.owner == owner, m.c.deleted.is_(False), m.c.origin.is_(None))
        .group_by(m.c.obligation)
    )
    counts = {row.obligation: int(row.n) for row in await conn.execute(stmt)}
    rc = ROSTER_COUNT.table
    old = (
        await conn.execute(select(*[rc.c[n] for n in ROSTER_COUNT.columns]).where(rc.c.id == roster_count_id(owner)))
    ).first()
    if old is None and not counts:
        return False
    rec = _revised_count(owner, counts, old, as_of)
    if rec is not None:
        await store.apply(conn, ROSTER_COUNT, [rec], origin=None)
    return rec is not None
