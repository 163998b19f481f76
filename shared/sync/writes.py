"""How rows are written: seqs from the feed counter, wire forms and hashes, and each engine's bulk upsert.

`store.apply` decides which versions win; this module only writes them, with the fewest round trips and as little
as possible under the feed counter's lock.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Callable
from operator import itemgetter
from typing import Any

import msgspec
from sqlalchemy import Boolean, Dialect, Integer, LargeBinary, Uuid, bindparam, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.db.engine import asyncpg_of
from shared.db.meta import Id
from shared.sync.registry import Record, RecordType
from shared.sync.tables import FeedCounter

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
    return [i for i, c in enumerate(_all_columns(rt)) if isinstance(rt.table.c[c].type, Id)]


def _views_to_text(rt: RecordType, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows of record views with their UUID bytes as 32 hex digits: what asyncpg parses into `uuid` in
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


async def raise_head(conn: AsyncConnection, at_least: int) -> None:
    """Move the feed counter up to `at_least` (never down), so the seqs taken from now on lie above it."""
    await conn.execute(
        update(FeedCounter).where(FeedCounter.id == 1, FeedCounter.last < at_least).values(last=at_least)
    )


async def give_back_seqs(conn: AsyncConnection, first: int, n: int) -> None:
    """Return the `n` seqs from `first` that this transaction took and no row used (an upsert that kept every
    stored version): the counter's row is still locked by this transaction, so no later seq was handed out. Without
    it a pull that brings back only versions already held advanced the node's head past its push cursor."""
    await conn.execute(
        update(FeedCounter).where(FeedCounter.id == 1, FeedCounter.last == first + n - 1).values(last=first - 1)
    )


async def _store_winners(
    conn: AsyncConnection,
    rt: RecordType,
    winners: list[tuple[Record, bytes]],
    origin: uuid.UUID | None,
    *,
    fresh: bool = False,
) -> None:
    if not winners:
        return
    if conn.dialect.name == "postgresql":
        await _pg_upsert(conn, rt, winners, origin, fresh=fresh)
    else:
        await _executemany_upsert(conn, rt, winners, await take_seqs(conn, len(winners)), origin, guarded=fresh)


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
_COUNTED = "SELECT (SELECT base FROM s), (SELECT count(*) FROM w)"
"""What the upsert's statement answers: `base` of `_TAKE_SQL` and the rows it wrote."""
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
    conn: AsyncConnection,
    rt: RecordType,
    winners: list[tuple[Record, bytes]],
    origin: uuid.UUID | None,
    *,
    guarded: bool = False,
    fresh: bool = False,
) -> tuple[int, int]:
    """PostgreSQL: write the winners with the fewest round trips, and as little as possible under the feed lock.

    Returns the first seq taken and how many rows were written. `fresh`: none of them is held (the caller
    looked), so a large batch is COPYed straight into the table (`_pg_copy_fresh`). `guarded`: a row replaces a
    stored one only with a higher rev (the caller compared nothing beforehand); otherwise the caller decided the
    winners and the upsert needs no condition. The feed counter's row lock, taken by the statement that writes, is
    held until commit and every writer waits for it: a large batch that may meet held rows is therefore COPYed
    into a session temp table first, with seq offsets, and only the final INSERT ... SELECT runs under the lock.
    """
    # Begins the transaction if nothing ran in it yet: the raw statements below belong to it (outside one, an
    # ON COMMIT DELETE ROWS table would be emptied at once).
    raw = await asyncpg_of(conn)
    assert raw is not None
    assert raw.is_in_transaction()
    n = len(winners)
    if fresh and n > SMALL_BATCH:
        done = await _pg_copy_fresh(raw, rt, winners, origin)
        if done is not None:
            return done, n
        guarded = True  # held after all: what another push stored meanwhile may be newer
    table = rt.table.name
    cols = _all_columns(rt)
    quoted = ", ".join(f'"{c}"' for c in cols)
    updates = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in cols[1:])
    if guarded:
        updates += f' WHERE EXCLUDED."rev" > {table}."rev"'
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
            f"WITH s AS ({_TAKE_SQL}), w AS (INSERT INTO {table} ({quoted}) SELECT {select_cols} "
            f'FROM (VALUES {values}) AS v({quoted}, ord), s ON CONFLICT ("id") DO UPDATE SET {updates} RETURNING 1) '
            f"{_COUNTED}"
        )
        base, written = await raw.fetchrow(sql, n, *(v for row in rows(1) for v in row))
        return int(base) + 1, int(written)
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
        f"WITH s AS ({_TAKE_SQL}), w AS (INSERT INTO {table} ({quoted}) SELECT {select_cols} FROM {staging}, s "
        f'ON CONFLICT ("id") DO UPDATE SET {updates} RETURNING 1) {_COUNTED}'
    )
    base, written = await raw.fetchrow(upsert, n)
    return int(base) + 1, int(written)


async def _pg_copy_fresh(
    raw: Any, rt: RecordType, winners: list[tuple[Record, bytes]], origin: uuid.UUID | None
) -> int | None:
    """COPY rows none of which is held straight into the table; returns the first seq, or None if one was held
    after all (another push stored it meanwhile: nothing of this COPY is kept, and the caller upserts instead).

    Staging the rows and inserting them from there cost PostgreSQL ~1.8× a COPY into the table (measured, 20
    batches of 5,000 grades); the seqs are taken first, so the feed lock is held across the COPY, as it was across
    the INSERT ... SELECT it replaces. View UUIDs go as hex text, which asyncpg parses in C.
    """
    import asyncpg  # the hub's extra: a node installs without it and never writes to PostgreSQL

    n = len(winners)
    first = int(await raw.fetchval(_TAKE_SQL, n)) + 1
    cols = _all_columns(rt)
    views = isinstance(winners[0][0].id, bytes)
    records = _copy_rows(rt, views)(winners, first, origin.hex if views and origin is not None else origin)
    try:
        async with raw.transaction():  # a savepoint: a unique violation undoes only this COPY
            await raw.copy_records_to_table(rt.table.name, records=records, columns=cols)
    except asyncpg.UniqueViolationError:
        # The counter's row is still locked by this transaction: the seqs go back, the upsert after takes its own.
        await raw.execute(_GIVE_BACK_SQL, first, n)
        return None
    return first


_RowMaker = Callable[[list[tuple[Record, bytes]], int, Any], list[tuple[Any, ...]]]
_row_makers: dict[tuple[str, bool], _RowMaker] = {}


def _copy_rows(rt: RecordType, views: bool) -> _RowMaker:
    """The COPY rows of (record, wire) pairs: fields, seq from `first`, origin, wire, hash; view UUIDs as hex text
    (parsed by asyncpg in C), JSON fields as JSON text.

    One comprehension made from the type's fields, as `dataclasses` makes its methods: converting column by column
    and transposing twice took 17 ms of a 5,000-grade batch at the hub, a row built at once 7 ms.
    """
    found = _row_makers.get((rt.name, views))
    if found is not None:
        return found
    uuids = {rt.columns[i] for i in _uuid_columns(rt) if i < len(rt.columns)}
    parts = []
    for name in rt.columns:
        get = f"rec.{name}"
        if name in rt.json_fields:
            parts.append(f"(None if {get} is None else _json({get}).decode())")
        elif views and name in uuids:
            parts.append(f"({get}.hex() if {get} is not None else None)")
        else:
            parts.append(get)
    source = (
        "def make(winners, first, origin):\n"
        f"    return [({', '.join(parts)}, seq, origin, wire, _crc(wire))"
        " for seq, (rec, wire) in enumerate(winners, first)]\n"
    )
    namespace: dict[str, Any] = {"_json": msgspec.json.encode, "_crc": zlib.crc32}
    exec(compile(source, f"<copy rows of {rt.name}>", "exec"), namespace)
    made: _RowMaker = namespace["make"]
    _row_makers[(rt.name, views)] = made
    return made


_GIVE_BACK_SQL = "UPDATE feed_counter SET last = $1::bigint - 1 WHERE id = 1 AND last = $1::bigint + $2::bigint - 1"
"""`give_back_seqs` on the raw connection."""


async def copy_if_fresh(
    conn: AsyncConnection, rt: RecordType, winners: list[tuple[Record, bytes]], origin: uuid.UUID | None
) -> bool:
    """PostgreSQL, a large batch the caller expects none of to be held: COPYed straight into the table without
    looking first; False (nothing written, no seq used) if one was held after all, and the caller looks and upserts.

    Asking for the held versions of 5,000 ids was a statement and a probe per row before the COPY, which probes the
    primary key anyway (a tenth of a push batch's time at the hub).
    """
    if conn.dialect.name != "postgresql" or len(winners) <= SMALL_BATCH:
        return False
    raw = await asyncpg_of(conn)
    assert raw is not None
    return await _pg_copy_fresh(raw, rt, winners, origin) is not None


_SKIPPED_ON_SQLITE = (Boolean, LargeBinary)
"""Column types whose bind processors sqlite3 needs not: a bool is bound as the integer it is, bytes as a blob
(SQLAlchemy wraps each in a memoryview: 0.3 s of a 100,000-grade bootstrap at the node)."""


_plans: dict[tuple[str, bool, bool], tuple[_RowMaker, str]] = {}


def _sqlite_plan(rt: RecordType, views: bool, guarded: bool, dialect: Dialect) -> tuple[_RowMaker, str]:
    """The rows of (record, wire) pairs as SQLite binds them (`_copy_rows`' way: one generated comprehension, each
    value through its column's bind processor where it needs one), and the upsert.

    `guarded`: the upsert replaces a stored row only with a higher rev (`apply` then compares nothing beforehand).
    """
    found = _plans.get((rt.name, views, guarded))
    if found is not None:
        return found
    table = rt.table
    names = _all_columns(rt)
    namespace: dict[str, Any] = {"_crc": zlib.crc32}
    raw = [f"rec.{name}" for name in rt.columns] + ["seq", "origin", "wire", "_crc(wire)"]
    parts = []
    for i, (name, get) in enumerate(zip(names, raw, strict=True)):
        kind = table.c[name].type
        if isinstance(kind, _SKIPPED_ON_SQLITE) or (views and isinstance(kind, Id)):
            parts.append(get)  # a view's UUID bytes are what SQLite stores (`shared.db.meta.Id`): bound as they are
            continue
        proc = kind.bind_processor(dialect)
        if name in rt.json_fields:
            proc = _json_then(proc)
        if proc is None:
            parts.append(get)
        else:
            namespace[f"_p{i}"] = proc
            parts.append(f"(None if {get} is None else _p{i}({get}))")
    source = (
        "def make(winners, first, origin):\n"
        f"    return [({', '.join(parts)}) for seq, (rec, wire) in enumerate(winners, first)]\n"
    )
    exec(compile(source, f"<sqlite rows of {rt.name}>", "exec"), namespace)
    quoted = ", ".join(f'"{c}"' for c in names)
    marks = ", ".join("?" for _ in names)
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in names[1:])
    sql = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({marks}) ON CONFLICT ("id") DO UPDATE SET {updates}'
    if guarded:
        sql += f' WHERE excluded."rev" > "{table.name}"."rev"'
    found = _plans[(rt.name, views, guarded)] = (namespace["make"], sql)
    return found


def _json_then(proc: Any) -> Any:
    if proc is None:
        return msgspec.to_builtins
    return lambda v: proc(msgspec.to_builtins(v))


async def _executemany_upsert(
    conn: AsyncConnection,
    rt: RecordType,
    winners: list[tuple[Record, bytes]],
    first: int,
    origin: uuid.UUID | None,
    *,
    guarded: bool = False,
) -> int:
    """SQLite: one prepared upsert run over all rows by the driver; returns how many rows it wrote.

    `guarded`: a row replaces the stored one only if its rev is higher, so a record held at as high a rev is left
    as it is (and its seq unused). Rows go in primary-key order: each insert then lands beside the one before in the
    table's B-tree (a 5,000-grade page of random ids took 12 ms to write, 4 ms sorted).
    """
    views = isinstance(winners[0][0].id, bytes)
    make, sql = _sqlite_plan(rt, views, guarded, conn.dialect)
    rows = make(winners, first, origin.bytes if views and origin is not None else origin)
    rows.sort(key=itemgetter(0))
    result = await conn.exec_driver_sql(sql, rows)
    return int(result.rowcount)
