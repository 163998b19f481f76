"""The local store: one feed over every record type, idempotent apply, scoped scans and digests.

Every write, local or from a peer, goes through `apply`, which stamps the rows it changes with fresh seqs taken
from `FeedCounter` in the same transaction. The writing itself is in `shared.sync.writes`, the scoped reads in
`shared.sync.scopes`; both are re-exported here, the engine's one entry point to its storage.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import String, any_, bindparam, delete, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from shared.db.engine import asyncpg_of
from shared.db.meta import Id
from shared.sync.registry import Record, RecordType
from shared.sync.scopes import (
    Scope,
    _scan_statement,
    _scope_params,
    digest,
    purge_outside,
    scan,
    scan_wires,
    scoped_select,
    versions_in,
    versions_of,
)
from shared.sync.tables import UnitRow
from shared.sync.writes import (
    _UUIDS,
    SMALL_BATCH,
    _executemany_upsert,
    _pg_upsert,
    _row_values,
    _store_winners,
    _wire,
    as_uuid,
    copy_if_fresh,
    encode_record,
    give_back_seqs,
    head,
    raise_head,
    take_seqs,
    wire_hash,
)

__all__ = [
    "SMALL_BATCH",
    "Applied",
    "Scope",
    "_row_values",
    "_scan_statement",
    "_scope_params",
    "apply",
    "as_uuid",
    "digest",
    "encode_record",
    "fetch",
    "fetch_wire",
    "from_row",
    "head",
    "held_versions",
    "owner_paths",
    "purge",
    "purge_outside",
    "raise_head",
    "restamp",
    "scan",
    "scan_wires",
    "scoped_select",
    "take_seqs",
    "versions_in",
    "versions_of",
    "wire_hash",
]


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
    likely_fresh: bool = False,
) -> Applied:
    """Store each record whose `rev` is above the stored one; idempotent, so a retried batch is harmless.

    `origin` is the peer unit the records came from (None for a local write). `replace_equal` also replaces a
    stored version of the same rev whose content differs (repair takes the parent's word for it). `wires` are the
    records' wire forms as received (encoded here when absent: a local write). `records` may be views from
    `RecordType.view_decoder` (UUIDs as bytes) when `wires` are given: all of one kind. `likely_fresh`: the caller
    expects none of them to be held (a push past what the child had pushed): a large batch on PostgreSQL is then
    COPYed without asking for the held versions first, and they are looked up only if one was held after all.
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
    small = conn.dialect.name != "postgresql" or len(latest) <= SMALL_BATCH
    if small and not replace_equal and isinstance(rt.table.c.id.type, Id):
        return await _guarded_apply(conn, rt, latest, origin)
    if likely_fresh and not replace_equal and await copy_if_fresh(conn, rt, list(latest.values()), origin):
        return Applied(list(latest), [])
    held = await held_versions(conn, rt, list(latest))
    if not held:  # nothing of these held here yet (a bootstrap, a first push): every one wins
        winners = list(latest.values())
        await _store_winners(conn, rt, winners, origin, fresh=True)
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


async def _guarded_apply(
    conn: AsyncConnection, rt: RecordType, latest: dict[Any, tuple[Record, bytes]], origin: uuid.UUID | None
) -> Applied:
    """The upsert itself keeps a stored version of as high a rev, with no pre-select of held versions (SQLite, and
    small batches on PostgreSQL; a large one there looks first, to COPY straight into the table when none is held).

    The database checks the primary key on insert anyway: asking for the held versions first was a second probe
    per row and a statement more (on SQLite 0.2 s of its 1.6 s in a 100,000-grade bootstrap). The rows written are
    counted; only when some were kept as they were are the stored ones told apart, by the fresh seqs they took.
    """
    winners = list(latest.values())
    n = len(winners)
    table = rt.table.name
    if conn.dialect.name == "postgresql":
        first, written = await _pg_upsert(conn, rt, winners, origin, guarded=True)
        if written == n:
            return Applied(list(latest), [])
        if written == 0:
            await give_back_seqs(conn, first, n)
            return Applied([], list(latest))
        raw = await asyncpg_of(conn)
        assert raw is not None
        found = await raw.fetch(f'SELECT id FROM "{table}" WHERE seq BETWEEN $1 AND $2', first, first + n - 1)
        done = {r[0].bytes for r in found}
    else:
        first = await take_seqs(conn, n)
        written = await _executemany_upsert(conn, rt, winners, first, origin, guarded=True)
        if written == n:
            return Applied(list(latest), [])
        if written == 0:
            await give_back_seqs(conn, first, n)
            return Applied([], list(latest))
        rows: Any = await conn.exec_driver_sql(
            f'SELECT id FROM "{table}" WHERE seq BETWEEN ? AND ?', (first, first + n - 1)
        )
        done = {bytes(rid) for (rid,) in rows}
    views = isinstance(winners[0][0].id, bytes)
    stored: list[Any] = []
    ignored: list[Any] = []
    for rid in latest:
        (stored if (rid if views else rid.bytes) in done else ignored).append(rid)
    return Applied(stored, ignored)


class _HeldByText(dict[str, Any]):
    """The held-versions statement per table for ids given as hex text, built on first use."""

    def __missing__(self, table: str) -> Any:
        stmt = text(f'SELECT id, rev, hash FROM "{table}" WHERE id = ANY(CAST(:ids AS uuid[]))').bindparams(
            bindparam("ids", type_=ARRAY(String()))
        )
        self[table] = stmt
        return stmt


_HELD_TEXT = _HeldByText()


_SQLITE_CHUNK = 5000
"""Ids per statement in `_sqlite_held`: one push or pull batch, well under SQLite's 32,766 bound parameters."""


async def _sqlite_held(conn: AsyncConnection, table: str, ids: list[bytes]) -> dict[bytes, tuple[int, int]]:
    """(rev, hash) by the 16 id bytes SQLite stores (`shared.db.meta.Id`): an IN list of bound blobs per batch,
    which SQLite answers from the primary key (it has no `unhex` before 3.41 to read a JSON array of hex)."""
    out: dict[bytes, tuple[int, int]] = {}
    for i in range(0, len(ids), _SQLITE_CHUNK):
        chunk = ids[i : i + _SQLITE_CHUNK]
        sql = f'SELECT id, rev, hash FROM "{table}" WHERE id IN ({", ".join("?" * len(chunk))})'
        found: Any = await conn.exec_driver_sql(sql, tuple(chunk))
        out.update({bytes(rid): (rev, h) for rid, rev, h in found})
    return out


async def held_versions(conn: AsyncConnection, rt: RecordType, ids: Iterable[Any]) -> dict[Any, tuple[int, int]]:
    """(rev, hash) of the stored version of each id held here, keyed like `ids` (UUIDs, or bytes of views)."""
    out: dict[Any, tuple[int, int]] = {}
    table = rt.table
    id_list = list(ids)
    if not id_list:
        return out
    if isinstance(id_list[0], bytes):
        # Ids of record views: sent as hex text, and the answer keyed by bytes like them.
        if conn.dialect.name == "postgresql":
            held = await conn.execute(_HELD_TEXT[table.name], {"ids": [i.hex() for i in id_list]})
            return {r[0].bytes: (r[1], r[2]) for r in held}
        return await _sqlite_held(conn, table.name, id_list)
    if conn.dialect.name == "postgresql":
        # One statement with an array parameter, whatever the count: no IN list to render for 5,000 ids.
        stmt = select(table.c.id, table.c.rev, table.c.hash).where(table.c.id == any_(bindparam("ids", type_=_UUIDS)))
        rows = await conn.execute(stmt, {"ids": id_list})
        return {r[0]: (r[1], r[2]) for r in rows}
    if conn.dialect.name == "sqlite" and isinstance(table.c.id.type, Id):
        held_bytes = await _sqlite_held(conn, table.name, [i.bytes for i in id_list])
        return {uuid.UUID(bytes=rid): found for rid, found in held_bytes.items()}
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


async def restamp(
    conn: AsyncConnection, rt: RecordType, ids: Sequence[uuid.UUID], *, clear_origin: bool = False
) -> None:
    """Give rows new seqs without changing them, so the next push sends them again.

    `clear_origin` when the parent asked for them (a repair): a copy that came from that parent is sent back too,
    since the parent no longer holds it (it was restored from a backup).
    """
    if not ids:
        return
    first = await take_seqs(conn, len(ids))
    table = rt.table
    values: dict[str, Any] = {"seq": bindparam("new_seq")}
    if clear_origin:
        values["origin"] = None
    await conn.execute(
        update(table).where(table.c.id == bindparam("rid")).values(values),
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
