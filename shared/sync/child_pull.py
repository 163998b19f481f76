"""The child's pull, and verify: digests compared with the parent's over this node's scope, differences repaired."""

from __future__ import annotations

import asyncio
from typing import Any

from msgspec import UNSET
from sqlalchemy import bindparam, select, update

from shared.sync import store
from shared.sync.child_base import ChildBase, RoundReport, _now, _State
from shared.sync.protocol import (
    PROTOCOL,
    Batch,
    DigestRequest,
    DigestResponse,
    PullRequest,
    PullResponse,
    RepairRequest,
    RepairResponse,
)
from shared.sync.registry import RecordType
from shared.sync.store import Scope
from shared.sync.tables import Upstream
from shared.sync.tombstones import mark_purged
from shared.sync.transport import SOFTWARE, _drop, _post
from shared.sync.wire import Link

_CURSORS = select(Upstream.pull_cursor, Upstream.scope, Upstream.push_cursor).where(Upstream.url == bindparam("url"))


class Pulling(ChildBase):
    """The pull and verify steps of a round (a pull that finds its scope changed verifies at once)."""

    async def _pull(self, http: Link, report: RoundReport, state: _State | None = None) -> int | None:
        """Pull until the parent has nothing more; `state`, if just read, gives the cursors without another read.
        Returns the push cursor the parent acknowledged when this node's is behind it (`_catch_up`), else None.

        While a batch is applied here, the next one is already asked for from the cursor that batch will leave
        (the parent scans and sends while this node writes); it is dropped unread if applying fails.
        """
        known = (state.pull_cursor, state.scope) if state is not None else None
        if state is not None and self.push_cursor is None:
            self.push_cursor = state.push_cursor
        behind: int | None = None
        ahead: asyncio.Task[PullResponse] | None = None
        try:
            while True:
                if ahead is not None:
                    reply, ahead = await ahead, None
                else:
                    if known is None:
                        async with self.db.read(single=True) as conn:
                            up = (await conn.execute(_CURSORS, {"url": self.url})).one()
                        known = (up.pull_cursor, up.scope)
                        self.push_cursor = max(self.push_cursor or 0, up.push_cursor)
                    reply = await self._ask_pull(http, *known)
                if reply.acked is not UNSET and reply.acked > (self.push_cursor or 0):
                    behind = max(behind or 0, reply.acked)
                if reply.rescope:
                    await self._verify(http, report, rescope=True)
                    known = None
                    continue
                if not reply.batches and (reply.cursor, reply.scope) == known and not reply.more:
                    return behind  # nothing new: no write (the round's closing write notes the time of this pull)
                known = (reply.cursor, reply.scope)
                if reply.more:
                    ahead = asyncio.create_task(self._ask_pull(http, *known))
                async with self.db.write() as conn:
                    for batch in reply.batches:
                        rt = self.registry.get(batch.type)
                        if rt is None:
                            continue
                        # Bulk types as views (UUIDs as bytes): stored without making a UUID per field.
                        records, wires = self._decode(rt, batch, views=rt.bulk)
                        report.pulled += len(records)
                        result = await store.apply(conn, rt, records, origin=self.parent_unit, wires=wires)
                        report.applied += len(result.stored)
                    await conn.execute(
                        update(Upstream)
                        .where(Upstream.url == self.url)
                        .values(pull_cursor=reply.cursor, scope=reply.scope, last_pull=_now())
                    )
                self.progress("pull", report.pulled, 0)
                if not reply.more:
                    return behind
        finally:
            await _drop(ahead)

    async def _ask_pull(self, http: Link, cursor: int, scope: str) -> PullResponse:
        request = PullRequest(
            protocol=PROTOCOL,
            cursor=cursor,
            scope=scope,
            software=SOFTWARE,
            types=self.registry.names(),
            pushed=UNSET if self.push_cursor is None else self.push_cursor,
        )
        reply = await _post(http, "/sync/v1/pull", request, self.credential)
        assert isinstance(reply, PullResponse)
        return reply

    async def _catch_up(self, http: Link, report: RoundReport, acked: int) -> None:
        """The parent acknowledged this node's feed up to `acked`, past this node's push cursor: the node went back
        (its file copied back from a backup). Its seqs are first moved above `acked`, so nothing written from now on
        hides below it; the verify then brings back what only the parent holds and writes again, above `acked`,
        what the parent lacks or holds older; so every row at or below `acked` is held alike by the parent, and the
        push cursor starts there (else every round would ask again, until local seqs passed `acked`)."""
        async with self.db.write() as conn:
            await store.raise_head(conn, acked)
        await self._verify(http, report)
        async with self.db.write() as conn:
            await conn.execute(
                update(Upstream).where(Upstream.url == self.url, Upstream.push_cursor < acked).values(push_cursor=acked)
            )
        self.push_cursor = max(self.push_cursor or 0, acked)

    # Verify and repair

    async def _verify(self, http: Link, report: RoundReport, *, rescope: bool = False) -> None:
        """Compare digests over this node's scope with the parent's; fetch, push again or purge what differs.

        Types are taken in registry order, units first, and each local digest is computed after the types before
        it were repaired: a unit that left this node's subtree is forgotten first, and with it every record that
        was in scope only through it.
        """
        buckets = 256
        theirs = await _post(
            http,
            "/sync/v1/digest",
            DigestRequest(protocol=PROTOCOL, buckets=buckets, types=self.registry.names()),
            self.credential,
        )
        assert isinstance(theirs, DigestResponse)
        parent_digests = {td.type: td.buckets for td in theirs.types}
        for rt in self.registry:
            if rt.name not in parent_digests:
                continue
            async with self.db.read() as conn:
                scope = await self._holding_scope(conn)
                local = await store.digest(conn, rt, scope, buckets=buckets)
            remote = parent_digests[rt.name]
            differing = sorted(b for b in set(local) | set(remote) if local.get(b) != remote.get(b))
            for i in range(0, len(differing), 16):
                await self._repair(http, rt, scope, differing[i : i + 16], buckets, report)
            async with self.db.write() as conn:
                report.purged += await store.purge_outside(
                    conn, rt, await self._holding_scope(conn, for_parent=False), scope.unit
                )
        async with self.db.write() as conn:
            values: dict[str, Any] = {"last_verify": _now()}
            if rescope:
                values.update(pull_cursor=theirs.head, scope=theirs.scope)
            await conn.execute(update(Upstream).where(Upstream.url == self.url).values(**values))
        report.verified = True

    async def _repair(
        self,
        http: Link,
        rt: RecordType,
        scope: Scope,
        bucket_ids: list[int],
        buckets: int,
        report: RoundReport,
    ) -> None:
        async with self.db.read() as conn:
            held = await store.versions_in(conn, rt, scope, bucket_ids, buckets)
        reply = await _post(
            http,
            "/sync/v1/repair",
            RepairRequest(protocol=PROTOCOL, type=rt.name, buckets=buckets, bucket_ids=bucket_ids, held=held),
            self.credential,
        )
        assert isinstance(reply, RepairResponse)
        records, wires = self._decode(rt, Batch(rt.name, reply.rows))
        async with self.db.write() as conn:
            result = await store.apply(conn, rt, records, origin=self.parent_unit, replace_equal=True, wires=wires)
            report.repaired += len(result.stored)
            if reply.absent:
                owners = await store.owner_paths(conn, rt, reply.absent)
                ours = [
                    rid for rid, p in owners.items() if p is not None and p.startswith(scope.path) and scope.path != "/"
                ]
                gone = [rid for rid in reply.absent if rid not in set(ours)]
                await store.restamp(conn, rt, ours, clear_origin=True)
                await store.purge(conn, rt, gone)
                if gone:
                    await mark_purged(conn)  # its own children may hold them too: they verify before pulling on
                report.purged += len(gone)
            report.bumped += await self._bump(conn, [s for s in reply.push if s.rev >= 0])
            await store.restamp(conn, rt, [s.id for s in reply.push if s.rev < 0], clear_origin=True)
