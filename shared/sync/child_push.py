"""The child's push: every row of its subtree the parent lacks, batch by batch, the next scanned while one is sent."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.sync import store
from shared.sync.child_base import ChildBase, RoundReport, _now, _State
from shared.sync.protocol import (
    PROTOCOL,
    Batch,
    PushRequest,
    PushResponse,
    Refused,
    batches_of,
    identify,
    split_batch,
)
from shared.sync.store import Scope
from shared.sync.tables import Rejection, Upstream
from shared.sync.transport import SOFTWARE, _drop, _post
from shared.sync.wire import Link


@dataclass(frozen=True, slots=True)
class _PushPlan:
    """One push batch, scanned and encoded: what it covers (`cursor` < seq <= `upto`) and what it carries."""

    cursor: int
    upto: int
    head: int
    batches: list[Batch]
    pending: int
    sent: int


class Pushing(ChildBase):
    """The push step of a round."""

    async def _push(self, http: Link, report: RoundReport, state: _State | None = None) -> bool:
        """Send every row of this node's subtree the parent lacks, batch by batch; True if the parent asks to verify.

        `state`, when the caller has just read it, saves a read when there is nothing to push. One batch is in
        flight at a time and acknowledged in order; the next one is scanned and encoded while the parent applies
        the current one (node and hub then work at once instead of taking turns).
        """
        repair = False
        if state is not None and (state.path is None or state.push_cursor >= state.head):
            return repair
        ahead: asyncio.Task[_PushPlan | None] | None = None
        try:
            plan = await self._plan_push(None)
            while plan is not None:
                if plan.upto < plan.head:
                    ahead = asyncio.create_task(self._plan_push(plan.upto))
                reply = await _post(
                    http,
                    "/sync/v1/push",
                    PushRequest(
                        protocol=PROTOCOL,
                        after=plan.cursor,
                        upto=plan.upto,
                        batches=plan.batches,
                        pending=plan.pending,
                        software=SOFTWARE,
                    ),
                    self.credential,
                )
                assert isinstance(reply, PushResponse)
                async with self.db.write() as conn:
                    await conn.execute(
                        update(Upstream)
                        .where(Upstream.url == self.url, Upstream.push_cursor < reply.acked)
                        .values(push_cursor=reply.acked, last_push=_now())
                    )
                    await self._record_refusals(conn, plan.batches, reply.refused)
                    report.bumped += await self._bump(conn, reply.stale)
                self.push_cursor = max(self.push_cursor or 0, reply.acked)
                report.pushed += plan.sent
                report.stored_at_parent += reply.stored
                report.refused.extend(reply.refused)
                repair = repair or reply.repair
                self.progress("push", report.pushed, report.pushed + plan.pending)
                if plan.upto >= plan.head and not reply.stale:
                    return repair
                # The batch scanned ahead starts where this one was acknowledged; after a bump (new seqs above its
                # head) or an acknowledgement elsewhere than asked, it is dropped and the next batch read afresh.
                if ahead is not None and not reply.stale and reply.acked == plan.upto:
                    plan, ahead = await ahead, None
                else:
                    await _drop(ahead)
                    ahead = None
                    plan = await self._plan_push(None)
            return repair
        finally:
            await _drop(ahead)

    async def _plan_push(self, after: int | None) -> _PushPlan | None:
        """The next batch to push, from the stored push cursor or from `after`; None when nothing is left."""
        async with self.db.read() as conn:
            now = await self._state(conn)
            path, head = now.path, now.head
            cursor = now.push_cursor if after is None else after
            if path is None or cursor >= head:
                return None
            scope = Scope(
                unit=now.unit,
                path=path,
                down=False,
                up=True,
                exclude_own=False,
                exclude_origin=self.parent_unit,
                ceiling_depth=now.parent_depth,
            )
            limit = self.settings.batch_rows
            items = await store.scan_wires(conn, self.registry, scope, after=cursor, upto=head, limit=limit)
        batches, upto, cut = batches_of(items, self.settings.batch_bytes)
        if not (cut or len(items) >= limit):
            upto = head
        sent = sum(1 for item in items if item[0] <= upto)
        return _PushPlan(cursor, upto, head, batches, 0 if upto == head else head - upto, sent)

    async def _record_refusals(self, conn: AsyncConnection, batches: list[Batch], refused: list[Refused]) -> None:
        """Keep each refusal visible until a later version of that record is accepted."""
        if not refused and (await conn.execute(select(Rejection.record_id).limit(1))).first() is None:
            return  # nothing to clear: spares decoding every sent record's id again (the common case)
        refused_ids = {r.id for r in refused}
        sent_ids = [rid for b in batches for rid in _ids(b)]
        accepted = [rid for rid in sent_ids if rid not in refused_ids]
        for i in range(0, len(accepted), 500):
            await conn.execute(delete(Rejection).where(Rejection.record_id.in_(accepted[i : i + 500])))
        if refused:
            await conn.execute(delete(Rejection).where(Rejection.record_id.in_(list(refused_ids))))
            await conn.execute(
                insert(Rejection),
                [{"record_id": r.id, "type": r.type, "rev": r.rev, "reason": r.reason, "at": _now()} for r in refused],
            )


def _ids(batch: Batch) -> list[uuid.UUID]:
    return [rid for rid, _ in map(identify, split_batch(batch)) if rid is not None]
