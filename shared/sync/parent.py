"""The parent side of sync, the same on the hub and on a district node: enrolment, pull, push, digest, repair.

Nothing here knows HTTP; `shared.sync.http` maps these calls to routes.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import String, bindparam, or_, select, update
from sqlalchemy.orm import aliased

from shared.db.engine import asyncpg_of, fetch
from shared.sync import store
from shared.sync.parent_base import Child, ParentBase, SyncError, utcnow
from shared.sync.parent_enrol import Enrolment, _digest_secret
from shared.sync.parent_push import Pushes
from shared.sync.protocol import (
    DigestRequest,
    DigestResponse,
    PullRequest,
    PullResponse,
    RepairRequest,
    RepairResponse,
    Stale,
    TypeDigest,
    batches_of,
    raw_array,
)
from shared.sync.registry import RecordType, Registry
from shared.sync.store import Scope
from shared.sync.tables import ChildNode, UnitRow
from shared.sync.tombstones import Collection, collect_tombstones

__all__ = ["Child", "Parent", "ParentBase", "SyncError", "_digest_secret", "utcnow"]

# Every unit related to a child's place: its subtree (owners it may hold) and its ancestors (audiences above it);
# only for a path that does not name the ancestors' ids (see `_ancestors`).
_PATH = bindparam("path", type_=String())
_REACH = select(UnitRow.id, UnitRow.path).where(
    or_(UnitRow.path.startswith(_PATH), _PATH.startswith(UnitRow.path, autoescape=False))
)


class Parent(Enrolment, Pushes):
    """Serves the children of this instance's unit."""

    # Pull

    def pull_scope(self, child: Child) -> Scope:
        return Scope(unit=child.unit, path=child.path, down=True, up=True, exclude_origin=child.unit)

    async def scoped_pull_scope(self, conn: Any, child: Child) -> Scope:
        """`pull_scope` with the units it can reach, so the scan reads only rows the child may hold.

        Cached like the scope token, and for the same reason: a move of a unit is seen within
        `SyncSettings.cache_seconds`, and the token changes with it (so the cursor is not trusted across it).
        """
        cached = self._reach_cache.get(child.unit)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        owners = tuple(unit for unit, _ in await self.subtree(conn, child))
        above = _ancestors(child.path)
        if above is None:  # a path not of ids: ask the tree
            above = tuple(unit for unit, path in await fetch(conn, _REACH, {"path": child.path}) if unit not in owners)
        scope = Scope(
            unit=child.unit,
            path=child.path,
            down=True,
            up=True,
            exclude_origin=child.unit,
            owners=owners or (child.unit,),
            audiences=above + owners,
        )
        self._reach_cache[child.unit] = (time.monotonic() + self.settings.cache_seconds, scope)
        return scope

    async def pull(self, child: Child, req: PullRequest) -> PullResponse:
        limit = min(req.limit or self.settings.batch_rows, self.settings.batch_rows)
        # A child whose push cursor is below what it had pushed here went back: a file copied back from a backup
        # taken when nothing waited to push sends no push that would show it (`child.acked_push` is cached, so
        # never ahead of the stored one: no false alarm, at worst `cache_seconds` late).
        acked = child.acked_push if req.pushed is not msgspec.UNSET and req.pushed < child.acked_push else msgspec.UNSET
        async with self.db.read() as conn:
            types = self._types(req.types)
            head, horizon, epoch, *tops = await _feed(conn, tuple(rt.table.name for rt in types))
            token = await self.scope_token(conn, child, req.types or self.registry.names(), epoch=epoch)
            if req.cursor > head or (req.cursor > 0 and (req.scope != token or req.cursor < horizon)):
                # The cursor means nothing here: the child's scope changed, or this parent was restored, or a
                # tombstone above the cursor was collected (the child may hold what it deleted: a digest repair).
                return PullResponse(cursor=req.cursor, more=False, scope=token, batches=[], rescope=True, acked=acked)
            self._ack(child, req.cursor)
            if req.cursor == head:
                return PullResponse(cursor=head, more=False, scope=token, batches=[], acked=acked)
            written = self._written_after(types, tops, req.cursor)
            if not written:
                self._touch(child, pull_cursor=head)
                return PullResponse(cursor=head, more=False, scope=token, batches=[], acked=acked)
            scope = await self.scoped_pull_scope(conn, child)
            found = await store.scan_wires(conn, written, scope, after=req.cursor, upto=head, limit=limit)
        batches, cursor, cut = batches_of(found, self.settings.batch_bytes)
        more = cut or len(found) >= limit
        if not more:
            cursor = head
        self._touch(child, pull_cursor=cursor)
        return PullResponse(cursor=cursor, more=more, scope=token, batches=batches, acked=acked)

    def _written_after(self, types: Registry, tops: Sequence[int | None], cursor: int) -> Registry:
        """The types whose highest seq (`tops`, read with the head) is above `cursor`, for the scan to read only those.

        The scan is a UNION ALL over every type the child knows (23): PostgreSQL spent ~15 ms of CPU planning it
        for its values and ~0.8 ms running it, where the scan of the one type a burst writes costs 0.8 ms in all.
        Safe against the out-of-order commit trap: the tops come from the head's own snapshot, and every seq up to
        the head was committed (seqs are taken under the feed counter's lock until commit), so no row of a type
        skipped here lies in the window.
        """
        wanted = tuple(rt.name for rt, top in zip(types, tops, strict=True) if top is not None and top > cursor)
        cached = self._subsets.get(wanted)
        if cached is None:
            cached = self._subsets[wanted] = Registry(*(types[name] for name in wanted))
        return cached

    def _ack(self, child: Child, cursor: int) -> None:
        """Note the cursor a child pulls from: it has applied everything below it (what tombstone collection waits
        for). Noted once per new value, so a no-op pull still costs no write."""
        if self._acked.get(child.node_id) != cursor:
            self._acked[child.node_id] = cursor
            self._touch(child, acked_pull=cursor)

    # Verify and repair

    def digest_scope(self, child: Child, parent_depth: int) -> Scope:
        return Scope(
            unit=child.unit, path=child.path, down=True, up=True, exclude_own=False, ceiling_depth=parent_depth
        )

    async def digest(self, child: Child, req: DigestRequest) -> DigestResponse:
        _, _, my_depth = await self.my_unit()
        scope = self.digest_scope(child, my_depth)
        async with self.db.read() as conn:
            head = await store.head(conn)
            types = [
                TypeDigest(rt.name, await store.digest(conn, rt, scope, buckets=req.buckets))
                for rt in self._types(req.types)
            ]
            token = await self.scope_token(conn, child, req.types or self.registry.names())
        return DigestResponse(head=head, scope=token, types=types)

    async def repair(self, child: Child, req: RepairRequest) -> RepairResponse:
        rt = self.registry.get(req.type)
        if rt is None or req.buckets <= 0:
            raise SyncError(400, "bad_repair", "Yêu cầu đối chiếu không hợp lệ.", "Invalid repair request.")
        _, _, my_depth = await self.my_unit()
        scope = self.digest_scope(child, my_depth)
        async with self.db.read() as conn:
            here = await store.versions_in(conn, rt, scope, req.bucket_ids, req.buckets)
            # What the child holds in those buckets may sit in other buckets here (another version): look it up.
            extra = [rid for rid in req.held if rid not in here]
            if extra:
                here.update(await store.versions_of(conn, rt, scope, extra))
            owners = await self._owners(conn, rt, set(here))
            send: list[uuid.UUID] = []
            absent: list[uuid.UUID] = []
            push: list[Stale] = []
            for rid in set(req.held) | set(here):
                mine, theirs = here.get(rid), req.held.get(rid)
                if mine is None:
                    absent.append(rid)
                elif theirs is None or theirs[0] < mine[0]:
                    send.append(rid)
                elif theirs[0] == mine[0] and theirs[1] != mine[1]:
                    # Same rev, other content: only a restored owner makes that, and its newer edit wins.
                    (push.append(Stale(rt.name, rid, mine[0])) if owners[rid][1] == child.unit else send.append(rid))
                elif theirs[0] > mine[0] and owners[rid][0].startswith(child.path):
                    push.append(Stale(rt.name, rid, mine[0]))
            rows = [wire for _, wire in await store.fetch_wire(conn, rt, send)]
        return RepairResponse(type=rt.name, rows=raw_array(rows), absent=absent, push=push)

    async def _owners(self, conn: Any, rt: RecordType, ids: set[uuid.UUID]) -> dict[uuid.UUID, tuple[str, uuid.UUID]]:
        """(owner's path, owner's id) of each record held here."""
        out: dict[uuid.UUID, tuple[str, uuid.UUID]] = {}
        table = rt.table
        owner = aliased(UnitRow.__table__, name="o")
        id_list = list(ids)
        for i in range(0, len(id_list), 500):
            rows = await conn.execute(
                select(table.c.id, owner.c.path, owner.c.id.label("owner_id"))
                .select_from(table.join(owner, owner.c.id == table.c.owner))
                .where(table.c.id.in_(id_list[i : i + 500]))
            )
            out.update({r.id: (r.path, r.owner_id) for r in rows})
        return out

    # Tombstones

    async def collect_tombstones(self, *, now: datetime | None = None) -> Collection:
        """Drop the tombstones every child that should see them has acknowledged (`shared.sync.tombstones`)."""
        await self.flush_activity()  # the acknowledgements noted in memory count too
        grace = timedelta(days=self.settings.tombstone_grace_days)
        return await collect_tombstones(self.db, self.registry, grace=grace, now=now or self.clock())

    # Observability

    def _touch(self, child: Child, **values: Any) -> None:
        """Note a child's contact in memory: a no-op pull costs no write; `flush_activity` stores it."""
        now = self.clock()
        entry = self._activity.setdefault(child.node_id, {})
        entry.update(values, last_contact=now)
        if "pull_cursor" in values:
            entry["last_pull"] = now

    async def flush_activity(self) -> None:
        """Store the contacts noted since the last flush (called every few seconds and at shutdown)."""
        if not self._activity:
            return
        pending, self._activity = self._activity, {}
        # One executemany per set of columns noted (asyncpg pipelines it), not a statement built and run per node:
        # that was ~2 % of a hub worker's CPU in a burst.
        shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for node_id, values in pending.items():
            shapes.setdefault(tuple(sorted(values)), []).append({"_node": node_id, **values})
        async with self.db.write() as conn:
            for names, rows in shapes.items():
                stmt = _touched(names)
                await conn.execute(stmt, rows)

    async def nodes(self) -> list[dict[str, Any]]:
        """Per child node: unit, last contact, last push and pull, rows pending, refused records, lag, protocol."""
        await self.flush_activity()
        async with self.db.read() as conn:
            head = await store.head(conn)
            rows = (
                await conn.execute(
                    select(ChildNode, UnitRow.code.label("unit_code"), UnitRow.name.label("unit_name"))
                    .join(UnitRow, UnitRow.id == ChildNode.unit)
                    .order_by(UnitRow.path)
                )
            ).all()
        return [
            {
                "node_id": str(n.id),
                "unit": str(n.unit),
                "unit_code": n.unit_code,
                "unit_name": n.unit_name,
                "label": n.label,
                "enrolled_at": n.enrolled_at,
                "revoked": n.revoked_at is not None,
                "last_contact": n.last_contact,
                "last_push": n.last_push,
                "last_pull": n.last_pull,
                "protocol": n.protocol,
                "software": n.software,
                "pending_at_node": n.child_pending,
                "refused_last_push": n.rejected,
                "behind_by": max(head - n.pull_cursor, 0),
            }
            for n in rows
        ]


def _ancestors(path: str) -> tuple[uuid.UUID, ...] | None:
    """The units above a unit, read from its path (`/root/…/parent/unit/`, ids in hex), or None for another form."""
    try:
        return tuple(uuid.UUID(hex=part) for part in path.strip("/").split("/")[:-1])
    except ValueError:
        return None


@functools.cache
def _feed_sql(tables: tuple[str, ...]) -> str:
    tops = "".join(f', (SELECT max(seq) FROM "{name}")' for name in tables)
    return f"SELECT last, collected, epoch{tops} FROM feed_counter WHERE id = 1"


async def _feed(conn: Any, tables: tuple[str, ...]) -> tuple[Any, ...]:
    """The feed's head, tombstone horizon and epoch, then the highest seq held in each table (None if empty): one
    statement without parameters (one generic plan; an index lookup per table), one snapshot."""
    sql = _feed_sql(tables)
    raw = await asyncpg_of(conn)
    row = (await raw.fetch(sql))[0] if raw is not None else (await conn.exec_driver_sql(sql)).one()
    return (int(row[0]), int(row[1]), row[2] or "", *row[3:])


@functools.cache
def _touched(names: tuple[str, ...]) -> Any:
    return update(ChildNode).where(ChildNode.id == bindparam("_node")).values({n: bindparam(n) for n in names})
