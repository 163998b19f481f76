"""The local store: one feed over every record type, idempotent apply, scoped scans and digests.

Every write, local or from a peer, goes through `apply`, which stamps the rows it changes with fresh seqs taken
from `FeedCounter` in the same transaction.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    Uuid,
    and_,
    any_,
    bindparam,
    delete,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from shared.sync.registry import Record, RecordType, Registry
from shared.sync.tables import FeedCounter, UnitRow

_wire = msgspec.msgpack.Encoder(uuid_format="bytes")
_UUIDS = ARRAY(Uuid())


def encode_record(rec: Record) -> bytes:
    """A version's wire form, as its owner writes it; stored and relayed as is."""
    return _wire.encode(rec)


def wire_hash(wire: bytes) -> int:
    """CRC32 of a version's wire form: equal versions hash equal on every node, whatever the database."""
    return zlib.crc32(wire)


def as_uuid(value: uuid.UUID | bytes) -> uuid.UUID:
    """An id from a record or from its view (`RecordType.view_decoder`, where UUIDs stay their 16 bytes)."""
    return uuid.UUID(bytes=value) if isinstance(value, bytes) else value


def _uuid_columns(rt: RecordType) -> list[int]:
    return [i for i, c in enumerate(_all_columns(rt)) if isinstance(rt.table.c[c].type, Uuid)]


def _views_to_text(rt: RecordType, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows of record views with their UUID bytes as 32 hex digits: what SQLite stores, and what asyncpg parses in
    C (bytes.hex() costs a quarter of making a UUID and asking it for its bytes again)."""
    idx = _uuid_columns(rt)
    out = []
    for row in rows:
        values = list(row)
        for i in idx:
            v = values[i]
            if isinstance(v, bytes):
                values[i] = v.hex()
            elif v is not None:
                values[i] = v.hex  # a UUID (the origin column): its hex property
        out.append(tuple(values))
    return out


async def head(conn: AsyncConnection) -> int:
    """The last seq whose transaction has committed; every seq at or below it is visible."""
    return int((await conn.execute(_HEAD)).scalar_one())


# Built once: constructing a statement costs more than running it on a small push (SQLAlchemy's compiled cache
# spares the compile, not the construction).
_HEAD = select(FeedCounter.last).where(FeedCounter.id == 1)
_TAKE = (
    update(FeedCounter)
    .where(FeedCounter.id == 1)
    .values(last=FeedCounter.last + bindparam("n", type_=Integer()))
    .returning(FeedCounter.last)
)


async def take_seqs(conn: AsyncConnection, n: int) -> int:
    """Reserve `n` seqs and return the first. Holds the counter row until commit (see `FeedCounter`)."""
    last = int((await conn.execute(_TAKE, {"n": n})).scalar_one())
    return last - n + 1


def from_row(rt: RecordType, row: Any) -> Record:
    """A stored row back into its wire struct (JSON columns validated into their nested types)."""
    json_cols = rt.json_fields
    values = []
    for name in rt.columns:
        value = getattr(row, name)
        if value is not None and name in json_cols:
            value = msgspec.convert(value, json_cols[name])
        values.append(value)
    return rt.struct(*values)


@dataclass(frozen=True, slots=True)
class Applied:
    """What one `apply` did: the ids it stored, and those it ignored as not newer than what is held."""

    stored: list[Any]
    """Ids as the records carried them: `uuid.UUID`, or bytes for record views (`as_uuid` turns either into one)."""
    ignored: list[Any]


async def apply(
    conn: AsyncConnection,
    rt: RecordType,
    records: Sequence[Record],
    *,
    origin: uuid.UUID | None,
    replace_equal: bool = False,
    wires: Sequence[bytes] | None = None,
) -> Applied:
    """Store each record whose `rev` is above the stored one; idempotent, so a retried batch is harmless.

    `origin` is the peer unit the records came from (None for a local write). `replace_equal` also replaces a
    stored version of the same rev whose content differs (repair takes the parent's word for it). `wires` are the
    records' wire forms as received (encoded here when absent: a local write). `records` may be views from
    `RecordType.view_decoder` (UUIDs as bytes) when `wires` are given: all of one kind.
    """
    if not records:
        return Applied([], [])
    if wires is None:
        wires = [_wire.encode(rec) for rec in records]
    # A batch from a peer holds each id once: built in one call, and walked again only if an id repeats.
    latest = dict(zip([rec.id for rec in records], zip(records, wires, strict=True), strict=True))
    if len(latest) < len(records):
        latest = {}
        for rec, wire in zip(records, wires, strict=True):
            seen = latest.get(rec.id)
            if seen is None or rec.rev > seen[0].rev:
                latest[rec.id] = (rec, wire)
    held = await held_versions(conn, rt, list(latest))
    if not held:  # nothing of these held here yet (a bootstrap, a first push): every one wins
        winners = list(latest.values())
        await _store_winners(conn, rt, winners, origin)
        return Applied(list(latest), [])
    winners = []
    ignored: list[Any] = []
    for rid, (rec, wire) in latest.items():
        have = held.get(rid)
        if have is None or rec.rev > have[0] or (replace_equal and rec.rev == have[0] and zlib.crc32(wire) != have[1]):
            winners.append((rec, wire))
        else:
            ignored.append(rid)
    await _store_winners(conn, rt, winners, origin)
    return Applied([rec.id for rec, _ in winners], ignored)


async def _store_winners(
    conn: AsyncConnection, rt: RecordType, winners: list[tuple[Record, bytes]], origin: uuid.UUID | None
) -> None:
    if not winners:
        return
    if conn.dialect.name == "postgresql":
        await _pg_upsert(conn, rt, winners, origin)
    else:
        await _executemany_upsert(conn, rt, winners, await take_seqs(conn, len(winners)), origin)


def _all_columns(rt: RecordType) -> list[str]:
    return [*rt.columns, "seq", "origin", "wire", "hash"]


def _row_values(
    rt: RecordType, rec: Record, wire: bytes, seq: int, origin: uuid.UUID | bytes | None
) -> tuple[Any, ...]:
    values = msgspec.structs.astuple(rec)
    json_cols = rt.json_fields
    if json_cols:
        values = tuple(
            msgspec.to_builtins(v) if name in json_cols else v for name, v in zip(rt.columns, values, strict=True)
        )
    return (*values, seq, origin, wire, zlib.crc32(wire))


SMALL_BATCH = 64
"""Up to this many rows, PostgreSQL gets one multi-row upsert that takes its own seqs; above, COPY through a staging
table."""

_TAKE_SQL = "UPDATE feed_counter SET last = last + $1 WHERE id = 1 RETURNING last - $1 AS base"
"""`take_seqs` as a CTE: `base` + 1 is the first seq taken (the rows' offsets count from there)."""
_casts: dict[str, list[str]] = {}


def _pg_casts(rt: RecordType) -> list[str]:
    """PostgreSQL type names of the upsert's columns, so a VALUES list's parameters are typed as the table's."""
    found = _casts.get(rt.name)
    if found is None:
        dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
        found = [rt.table.c[c].type.compile(dialect=dialect) for c in _all_columns(rt)]
        _casts[rt.name] = found
    return found


async def _pg_upsert(
    conn: AsyncConnection, rt: RecordType, winners: list[tuple[Record, bytes]], origin: uuid.UUID | None
) -> None:
    """PostgreSQL: write the winners with the fewest round trips, and as little as possible under the feed lock.

    Callers decided which rows win beforehand, so the upsert needs no condition. The feed counter's row lock,
    taken by `take_seqs`, is held until commit and every writer waits for it: a large batch is therefore COPYed
    into a session temp table first, with seq offsets, and only the final INSERT ... SELECT runs under the lock.
    """
    raw = (await conn.get_raw_connection()).driver_connection
    assert raw is not None
    # `held_versions` ran through SQLAlchemy just before, so its transaction has begun: the raw statements below
    # belong to it (outside a transaction, an ON COMMIT DELETE ROWS table would be emptied at once).
    assert raw.is_in_transaction()
    table = rt.table.name
    cols = _all_columns(rt)
    quoted = ", ".join(f'"{c}"' for c in cols)
    updates = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in cols[1:])
    json_idx = {i for i, name in enumerate(cols) if name in rt.json_fields}

    views = isinstance(winners[0][0].id, bytes)

    def rows(base: int, *, raw_uuids: bool = False) -> list[tuple[Any, ...]]:
        if raw_uuids:  # views into the bytea staging table: their UUID bytes go as they are
            at = None if origin is None else origin.bytes
            return [_row_values(rt, rec, wire, base + i, at) for i, (rec, wire) in enumerate(winners)]
        out = [_row_values(rt, rec, wire, base + i, origin) for i, (rec, wire) in enumerate(winners)]
        if views:
            out = _views_to_text(rt, out)
        if json_idx:
            out = [tuple(msgspec.json.encode(v).decode() if i in json_idx else v for i, v in enumerate(r)) for r in out]
        return out

    n = len(winners)
    if n <= SMALL_BATCH:
        # One statement takes the seqs and writes the rows: the feed lock is held from here to the commit only
        # (a separate `take_seqs` held it across one more round trip, an event-loop turn of a saturated worker).
        casts = _pg_casts(rt)
        width = len(cols)
        values = ", ".join(
            "(" + ", ".join(f"${r * width + i + 2}::{casts[i]}" for i in range(width)) + f", {r + 1})" for r in range(n)
        )
        select_cols = ", ".join("s.base + v.ord" if c == "seq" else f'v."{c}"' for c in cols)
        sql = (
            f"WITH s AS ({_TAKE_SQL}) INSERT INTO {table} ({quoted}) SELECT {select_cols} "
            f'FROM (VALUES {values}) AS v({quoted}, ord), s ON CONFLICT ("id") DO UPDATE SET {updates}'
        )
        await raw.execute(sql, n, *(v for row in rows(1) for v in row))
        return
    # DELETE, not TRUNCATE: the table is empty unless this transaction filled it already, and TRUNCATE inside a
    # transaction makes a new file each time (~2 ms measured).
    raw_uuids = views and not json_idx
    if raw_uuids:
        # Record views carry their UUIDs as the 16 wire bytes: staged as bytea and made uuid by PostgreSQL in the
        # INSERT below, no Python object is made per UUID (making them was most of a push's CPU at the hub).
        staging = f"_incoming_raw_{table}"
        uuid_cols = {cols[i] for i in _uuid_columns(rt)}
        shape = ", ".join(f'NULL::bytea AS "{c}"' if c in uuid_cols else f'"{c}"' for c in cols)
        create = f"CREATE TEMP TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS AS SELECT {shape} FROM {table}"
        await raw.execute(f"{create} WITH NO DATA; DELETE FROM {staging}")
    else:
        staging = f"_incoming_{table}"
        uuid_cols = set()
        await raw.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {staging} (LIKE {table}) ON COMMIT DELETE ROWS; DELETE FROM {staging}"
        )
    await raw.copy_records_to_table(staging, records=rows(0, raw_uuids=raw_uuids), columns=cols)
    # The seqs are taken by the INSERT itself (staged rows carry offsets 0..n-1): the lock is held from this
    # statement to the commit, not across a round trip before it.
    select_cols = ", ".join(
        '"seq" + s.base + 1' if c == "seq" else f"encode(\"{c}\", 'hex')::uuid" if c in uuid_cols else f'"{c}"'
        for c in cols
    )
    upsert = (
        f"WITH s AS ({_TAKE_SQL}) INSERT INTO {table} ({quoted}) SELECT {select_cols} FROM {staging}, s "
        f'ON CONFLICT ("id") DO UPDATE SET '
    )
    await raw.execute(upsert + updates, n)


async def _executemany_upsert(
    conn: AsyncConnection, rt: RecordType, winners: list[tuple[Record, bytes]], first: int, origin: uuid.UUID | None
) -> None:
    """SQLite: one prepared upsert run over all rows by the driver, values converted by the columns' own types.

    Rows are built column by column (a list comprehension per converted column, tuples transposed by `zip`): per
    row and value in Python, converting was a third of a bootstrap's time at the node.
    """
    table = rt.table
    names = _all_columns(rt)
    views = isinstance(winners[0][0].id, bytes)
    wires = [wire for _, wire in winners]
    n = len(winners)
    at: Any = origin.bytes if views and origin is not None else origin
    cols: list[Any] = [
        *zip(*(msgspec.structs.astuple(rec) for rec, _ in winners), strict=True),
        range(first, first + n),
        [at] * n,
        wires,
        [zlib.crc32(w) for w in wires],
    ]
    uuid_idx = set(_uuid_columns(rt)) if views else set()
    for i, name in enumerate(names):
        if i in uuid_idx:  # a view's UUID bytes, as SQLAlchemy's Uuid type stores a UUID here: 32 hex digits
            cols[i] = [None if v is None else v.hex() for v in cols[i]]
            continue
        if name in rt.json_fields:
            cols[i] = [None if v is None else msgspec.to_builtins(v) for v in cols[i]]
        proc = table.c[name].type.bind_processor(conn.dialect)
        if proc is not None:
            cols[i] = [None if v is None else proc(v) for v in cols[i]]
    quoted = ", ".join(f'"{c}"' for c in names)
    marks = ", ".join("?" for _ in names)
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in names[1:])
    sql = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({marks}) ON CONFLICT ("id") DO UPDATE SET {updates}'
    await conn.exec_driver_sql(sql, list(zip(*cols, strict=True)))


class _HeldByText(dict[str, Any]):
    """The held-versions statement per table for ids given as hex text, built on first use."""

    def __missing__(self, table: str) -> Any:
        stmt = text(f'SELECT id, rev, hash FROM "{table}" WHERE id = ANY(CAST(:ids AS uuid[]))').bindparams(
            bindparam("ids", type_=ARRAY(String()))
        )
        self[table] = stmt
        return stmt


_HELD_TEXT = _HeldByText()


async def held_versions(conn: AsyncConnection, rt: RecordType, ids: Iterable[Any]) -> dict[Any, tuple[int, int]]:
    """(rev, hash) of the stored version of each id held here, keyed like `ids` (UUIDs, or bytes of views)."""
    out: dict[Any, tuple[int, int]] = {}
    table = rt.table
    id_list = list(ids)
    if not id_list:
        return out
    if isinstance(id_list[0], bytes):
        # Ids of record views: sent as hex text, and the answer keyed by bytes like them.
        hexes = [i.hex() for i in id_list]
        if conn.dialect.name == "postgresql":
            held = await conn.execute(_HELD_TEXT[table.name], {"ids": hexes})
            return {r[0].bytes: (r[1], r[2]) for r in held}
        sql = f'SELECT id, rev, hash FROM "{table.name}" WHERE id IN (SELECT value FROM json_each(?))'
        held = await conn.exec_driver_sql(sql, (msgspec.json.encode(hexes).decode(),))
        return {bytes.fromhex(rid): (rev, h) for rid, rev, h in held}
    if conn.dialect.name == "postgresql":
        # One statement with an array parameter, whatever the count: no IN list to render for 5,000 ids.
        stmt = select(table.c.id, table.c.rev, table.c.hash).where(table.c.id == any_(bindparam("ids", type_=_UUIDS)))
        rows = await conn.execute(stmt, {"ids": id_list})
        return {r[0]: (r[1], r[2]) for r in rows}
    if conn.dialect.name == "sqlite" and isinstance(table.c.id.type, Uuid):
        # SQLite keeps these UUIDs as 32-digit hex text: one statement over a JSON array of them, instead of
        # an IN list rendered and run per 500 ids.
        sql = f'SELECT id, rev, hash FROM "{table.name}" WHERE id IN (SELECT value FROM json_each(?))'
        found: Any = await conn.exec_driver_sql(sql, (msgspec.json.encode([i.hex for i in id_list]).decode(),))
        return {uuid.UUID(hex=rid): (rev, h) for rid, rev, h in found}
    for i in range(0, len(id_list), 500):
        chunk = id_list[i : i + 500]
        rows = await conn.execute(select(table.c.id, table.c.rev, table.c.hash).where(table.c.id.in_(chunk)))
        out.update({r[0]: (r[1], r[2]) for r in rows})
    return out


async def fetch(conn: AsyncConnection, rt: RecordType, ids: Sequence[uuid.UUID]) -> list[tuple[int, Record]]:
    """Full records (with their local seq) for `ids`, in seq order."""
    table = rt.table
    cols = [table.c[n] for n in rt.columns]
    out: list[tuple[int, Record]] = []
    for i in range(0, len(ids), 1000):
        chunk = ids[i : i + 1000]
        rows = await conn.execute(select(table.c.seq, *cols).where(table.c.id.in_(chunk)))
        out.extend((r.seq, from_row(rt, r)) for r in rows)
    out.sort(key=lambda p: p[0])
    return out


async def fetch_wire(conn: AsyncConnection, rt: RecordType, ids: Sequence[uuid.UUID]) -> list[tuple[int, bytes]]:
    """(seq, wire form) of `ids`, in seq order: what is sent, without decoding anything."""
    table = rt.table
    out: list[tuple[int, bytes]] = []
    for i in range(0, len(ids), 1000):
        rows = await conn.execute(select(table.c.seq, table.c.wire).where(table.c.id.in_(ids[i : i + 1000])))
        out.extend((r.seq, r.wire) for r in rows)
    out.sort(key=lambda p: p[0])
    return out


# Scoped scans. A scope is a filter over (record, owner unit, audience unit), written once in SQL so the same
# logic serves pull (what a child should hold), push (what a child sends up), digests and purges.


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
            up.append(table.c.owner != bindparam("s_unit", scope.unit, type_=Uuid()))
        if scope.exclude_origin is not None:
            origin = bindparam("s_origin", scope.exclude_origin, type_=Uuid())
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
        table.c.owner.in_(bindparam("s_owners", expanding=True, type_=Uuid())),
        table.c.audience.in_(bindparam("s_audiences", expanding=True, type_=Uuid())),
    )


def _scan_statement(registry: Registry, scope: Scope, *, with_ids: bool, pg: bool = False) -> Select[Any]:
    """The scan's UNION ALL, built once per shape of scope: building it (an aliased units table per record type)
    cost more than running it, and was most of a hub's CPU in a burst of small pulls."""
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


async def scan(
    conn: AsyncConnection, registry: Registry, scope: Scope, *, after: int, upto: int, limit: int
) -> list[tuple[str, uuid.UUID, int, bytes]]:
    """(type, id, seq, wire) of in-scope rows with `after < seq <= upto`, in seq order, at most `limit`: one query."""
    stmt = _scan_statement(registry, scope, with_ids=True, pg=conn.dialect.name == "postgresql")
    rows = await conn.execute(stmt, {"after": after, "upto": upto, "limit": limit, **_scope_params(scope)})
    return [(r.type, r.id, r.seq, r.wire) for r in rows]


async def scan_wires(
    conn: AsyncConnection, registry: Registry, scope: Scope, *, after: int, upto: int, limit: int
) -> list[tuple[int, str, bytes]]:
    """(seq, type, wire) of what `scan` finds: what pull and push send, without making a UUID per row."""
    stmt = _scan_statement(registry, scope, with_ids=False, pg=conn.dialect.name == "postgresql")
    rows = await conn.execute(stmt, {"after": after, "upto": upto, "limit": limit, **_scope_params(scope)})
    return [(r[1], r[0], r[2]) for r in rows]


async def digest(
    conn: AsyncConnection, rt: RecordType, scope: Scope, *, buckets: int = 0
) -> dict[int, tuple[int, int]]:
    """Count and hash sum of in-scope rows of a type, per bucket (first byte of the id mod `buckets`), or in total."""
    table = rt.table
    # Buckets by content hash: portable SQL on both engines. A record held at different versions on the two sides
    # falls in different buckets; `verify` compares the union of differing buckets, so it is still found.
    key = (table.c.hash % buckets).label("bucket") if buckets else literal(0).label("bucket")
    stmt = scoped_select(rt, scope, key, func.count(), func.sum(table.c.hash)).group_by(key)
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


async def restamp(conn: AsyncConnection, rt: RecordType, ids: Sequence[uuid.UUID]) -> None:
    """Give rows new seqs without changing them, so the next push sends them again."""
    if not ids:
        return
    first = await take_seqs(conn, len(ids))
    table = rt.table
    await conn.execute(
        update(table).where(table.c.id == bindparam("rid")).values(seq=bindparam("new_seq")),
        [{"rid": rid, "new_seq": first + i} for i, rid in enumerate(ids)],
    )


async def purge(conn: AsyncConnection, rt: RecordType, ids: Sequence[uuid.UUID]) -> None:
    """Forget copies this node may no longer hold (a scope change); not a deletion, so nothing is stamped."""
    table = rt.table
    for i in range(0, len(ids), 500):
        await conn.execute(delete(table).where(table.c.id.in_(ids[i : i + 500])))


async def owner_paths(conn: AsyncConnection, rt: RecordType, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str | None]:
    """The path of each record's owner unit as held here (None when the owner unit is unknown here)."""
    table = rt.table
    owner = aliased(UnitRow.__table__, name="o")
    out: dict[uuid.UUID, str | None] = {}
    for i in range(0, len(ids), 500):
        stmt = (
            select(table.c.id, owner.c.path)
            .select_from(table.outerjoin(owner, owner.c.id == table.c.owner))
            .where(table.c.id.in_(ids[i : i + 500]))
        )
        out.update({r.id: r.path for r in await conn.execute(stmt)})
    return out


async def purge_outside(conn: AsyncConnection, rt: RecordType, scope: Scope, keep_owner: uuid.UUID) -> int:
    """Forget every row of a type outside `scope` (e.g. a unit moved away) but this node's own; returns how many."""
    table = rt.table
    inside = scoped_select(rt, scope, table.c.id)
    result = await conn.execute(delete(table).where(table.c.id.not_in(inside), table.c.owner != keep_owner))
    return int(result.rowcount or 0)
