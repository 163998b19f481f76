"""Scoped scans: which rows a peer exchanges with this store, for pull, push, digests, repair and purges.

A scope is a filter over (record, owner unit, audience unit), written once in SQL so the same logic serves pull
(what a child should hold), push (what a child sends up), digests and purges.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    any_,
    bindparam,
    delete,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from shared.db.engine import asyncpg_of
from shared.db.meta import Id
from shared.sync.registry import RecordType
from shared.sync.tables import UnitRow
from shared.sync.writes import _UUIDS


@dataclass(frozen=True, slots=True)
class Scope:
    """Which rows a peer exchanges with this store.

    `path`/`depth` are the peer's unit; `down` includes rows whose audience covers that unit or lies below it;
    `up_from` includes rows owned in the peer's subtree (excluding its own unit's, which it is the authority for,
    and those that came from `exclude_origin`); `ceiling_depth` keeps only rows allowed to reach that depth.
    """

    unit: uuid.UUID
    path: str
    down: bool
    up: bool
    exclude_origin: uuid.UUID | None = None
    exclude_own: bool = True
    ceiling_depth: int | None = None
    owners: tuple[uuid.UUID, ...] = ()
    """Optional index hint for `scan`: every unit in the peer's subtree (a superset of the owners `up` admits)."""
    audiences: tuple[uuid.UUID, ...] = ()
    """With `owners`: every unit above, at or below the peer (a superset of the audiences `down` admits)."""


def _scope_filter(rt: RecordType, scope: Scope) -> tuple[ColumnElement[bool], Any, Any]:
    # The scope's values are named bind parameters (s_path, s_unit, s_origin, s_ceiling), bound to this scope's
    # values here; `scan` builds its statement once per shape and passes another scope's values when it runs.
    table = rt.table
    owner = aliased(UnitRow.__table__, name="o")
    aud = aliased(UnitRow.__table__, name="a")
    path = bindparam("s_path", scope.path, type_=String())
    conds: list[ColumnElement[bool]] = []
    if scope.down:
        conds.append(
            and_(
                table.c.audience.is_not(None),
                or_(
                    path.startswith(aud.c.path, autoescape=False),
                    aud.c.path.startswith(path),
                ),
            )
        )
    if scope.up:
        up = [owner.c.path.startswith(path)]
        if scope.exclude_own:
            up.append(table.c.owner != bindparam("s_unit", scope.unit, type_=Id()))
        if scope.exclude_origin is not None:
            origin = bindparam("s_origin", scope.exclude_origin, type_=Id())
            up.append(or_(table.c.origin.is_(None), table.c.origin != origin))
        if scope.ceiling_depth is not None and rt.ceiling is not None:
            up.append(owner.c.depth - bindparam("s_ceiling", scope.ceiling_depth, type_=Integer()) <= rt.ceiling)
        conds.append(and_(*up))
    return or_(*conds), owner, aud


def _scope_params(scope: Scope) -> dict[str, Any]:
    params: dict[str, Any] = {
        "s_path": scope.path,
        "s_unit": scope.unit,
        "s_origin": scope.exclude_origin,
        "s_ceiling": scope.ceiling_depth,
    }
    if scope.owners:
        params["s_owners"] = list(scope.owners)
        params["s_audiences"] = list(scope.audiences)
    return params


def scoped_select(rt: RecordType, scope: Scope, *columns: Any) -> Select[Any]:
    table = rt.table
    where, owner, aud = _scope_filter(rt, scope)
    stmt = select(*columns).select_from(table.join(owner, owner.c.id == table.c.owner))
    if scope.down:
        stmt = stmt.join(aud, aud.c.id == table.c.audience, isouter=True)
    return stmt.where(where)


_scan_cache: dict[tuple[Any, ...], tuple[Select[Any], tuple[RecordType, ...]]] = {}


def _reach(rt: RecordType, pg: bool) -> ColumnElement[bool]:
    """`owner IN owners OR audience IN audiences`: lets the (owner, seq) and (audience, seq) indexes find a scope's
    rows in a seq window without reading anyone else's (rows read grow with rows in scope, not with the feed)."""
    table = rt.table
    if pg:
        return or_(
            table.c.owner == any_(bindparam("s_owners", type_=_UUIDS)),
            table.c.audience == any_(bindparam("s_audiences", type_=_UUIDS)),
        )
    return or_(
        table.c.owner.in_(bindparam("s_owners", expanding=True, type_=Id())),
        table.c.audience.in_(bindparam("s_audiences", expanding=True, type_=Id())),
    )


def _scan_statement(registry: Iterable[RecordType], scope: Scope, *, with_ids: bool, pg: bool = False) -> Select[Any]:
    """The scan's UNION ALL, built once per shape of scope and set of types: building it (an aliased units table
    per record type) cost more than running it, and was most of a hub's CPU in a burst of small pulls."""
    types = tuple(registry)
    hinted = bool(scope.owners)
    key = (
        hinted,
        pg,
        tuple(id(rt) for rt in types),
        scope.down,
        scope.up,
        scope.exclude_own,
        scope.exclude_origin is None,
        scope.ceiling_depth is None,
        with_ids,
    )
    cached = _scan_cache.get(key)
    if cached is not None:
        return cached[0]
    parts = []
    for rt in types:
        table = rt.table
        cols = [literal(rt.name).label("type"), table.c.seq.label("seq"), table.c.wire.label("wire")]
        if with_ids:
            cols.append(table.c.id.label("id"))
        part = (
            scoped_select(rt, scope, *cols)
            .where(table.c.seq > bindparam("after"), table.c.seq <= bindparam("upto"))
            .order_by(table.c.seq)
            .limit(bindparam("limit"))
        )
        if hinted:
            part = part.where(_reach(rt, pg))
        parts.append(select(part.subquery()))
    union = union_all(*parts).subquery()
    stmt = select(*union.c).order_by(union.c.seq).limit(bindparam("limit"))
    _scan_cache[key] = (stmt, types)  # the types are kept so their ids stay theirs
    return stmt


CUSTOM_PLAN_WINDOW = 1_000
"""Seqs in a scan's window above which PostgreSQL plans the scan for its values (see `_planned_for_values`)."""


@contextlib.asynccontextmanager
async def _planned_for_values(conn: AsyncConnection, scope: Scope, window: int) -> AsyncIterator[None]:
    """Plan a wide scan for its own values. After five runs of a prepared statement PostgreSQL keeps a generic plan,
    and the scan's generic plan walks the seq index over the whole window, filtering by owner and audience: 100,000
    rows read for 100 returned, ~0.3 µs a row (found by bench/growth.py). Planned for its values it reads only the
    (owner, seq) and (audience, seq) index entries in reach (or walks the seq index when the scope holds most of the
    window: a bootstrap). Planning costs ~0.3 ms per type in the union, and the hub's pull unions only the types
    with rows in the window (`Parent._written_after`): worth it above `CUSTOM_PLAN_WINDOW` seqs (read connections
    autocommit, hence SET and RESET)."""
    raw = await asyncpg_of(conn) if scope.owners and window > CUSTOM_PLAN_WINDOW else None
    if raw is None:
        yield
        return
    await raw.execute("SET plan_cache_mode = force_custom_plan")
    try:
        yield
    finally:
        await raw.execute("RESET plan_cache_mode")


async def scan(
    conn: AsyncConnection, registry: Iterable[RecordType], scope: Scope, *, after: int, upto: int, limit: int
) -> list[tuple[str, uuid.UUID, int, bytes]]:
    """(type, id, seq, wire) of in-scope rows with `after < seq <= upto`, in seq order, at most `limit`."""
    rows = await _scan(conn, registry, scope, after=after, upto=upto, limit=limit, with_ids=True)
    return [(r.type, r.id, r.seq, r.wire) for r in rows]


async def scan_wires(
    conn: AsyncConnection, registry: Iterable[RecordType], scope: Scope, *, after: int, upto: int, limit: int
) -> list[tuple[int, str, bytes]]:
    """(seq, type, wire) of what `scan` finds: what pull and push send, without making a UUID per row."""
    rows = await _scan(conn, registry, scope, after=after, upto=upto, limit=limit, with_ids=False)
    return [(r[1], r[0], r[2]) for r in rows]


async def _scan(
    conn: AsyncConnection,
    registry: Iterable[RecordType],
    scope: Scope,
    *,
    after: int,
    upto: int,
    limit: int,
    with_ids: bool,
) -> Sequence[Any]:
    pg = conn.dialect.name == "postgresql"
    stmt = _scan_statement(registry, scope, with_ids=with_ids, pg=pg)
    async with _planned_for_values(conn, scope, upto - after):
        rows = await conn.execute(stmt, {"after": after, "upto": upto, "limit": limit, **_scope_params(scope)})
    return list(rows)


async def digest(
    conn: AsyncConnection, rt: RecordType, scope: Scope, *, buckets: int = 0
) -> dict[int, tuple[int, int]]:
    """Count and hash sum of in-scope rows of a type, per bucket (first byte of the id mod `buckets`), or in total."""
    table = rt.table
    # Buckets by content hash: portable SQL on both engines. A record held at different versions on the two sides
    # falls in different buckets; `verify` compares the union of differing buckets, so it is still found.
    key = (table.c.hash % buckets).label("bucket") if buckets else literal(0).label("bucket")
    # Tombstones are left out: each side drops its own once its children have them (`shared.sync.tombstones`), and
    # a tombstone held on one side only must not make every verify send it again. A live copy against a tombstone
    # still differs (the live one counts), and the repair, which sees tombstones, then sends the newer version.
    stmt = (
        scoped_select(rt, scope, key, func.count(), func.sum(table.c.hash))
        .where(table.c.deleted.is_(False))
        .group_by(key)
    )
    return {int(b): (int(n), int(s or 0)) for b, n, s in await conn.execute(stmt)}


async def versions_in(
    conn: AsyncConnection, rt: RecordType, scope: Scope, bucket_ids: Sequence[int], buckets: int
) -> dict[uuid.UUID, tuple[int, int]]:
    """(rev, hash) of every in-scope row in the given buckets."""
    table = rt.table
    stmt = scoped_select(rt, scope, table.c.id, table.c.rev, table.c.hash).where(
        (table.c.hash % buckets).in_(list(bucket_ids))
    )
    return {r.id: (r.rev, r.hash) for r in await conn.execute(stmt)}


async def versions_of(
    conn: AsyncConnection, rt: RecordType, scope: Scope, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, int]]:
    """(rev, hash) of those of `ids` that are held here and in scope."""
    table = rt.table
    out: dict[uuid.UUID, tuple[int, int]] = {}
    for i in range(0, len(ids), 500):
        stmt = scoped_select(rt, scope, table.c.id, table.c.rev, table.c.hash).where(table.c.id.in_(ids[i : i + 500]))
        out.update({r.id: (r.rev, r.hash) for r in await conn.execute(stmt)})
    return out


async def purge_outside(conn: AsyncConnection, rt: RecordType, scope: Scope, keep_owner: uuid.UUID) -> int:
    """Forget every row of a type outside `scope` (e.g. a unit moved away) but this node's own; returns how many."""
    table = rt.table
    inside = scoped_select(rt, scope, table.c.id)
    result = await conn.execute(delete(table).where(table.c.id.not_in(inside), table.c.owner != keep_owner))
    return int(result.rowcount or 0)
