"""What every step of a child's round shares: its upstream, its place and cursors read in one query, its report."""

from __future__ import annotations

import contextlib
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from shared.db.engine import Database
from shared.db.meta import Id
from shared.settings import SyncSettings
from shared.sync import store
from shared.sync.protocol import (
    Batch,
    Refused,
    Stale,
    split_batch,
)
from shared.sync.registry import Record, RecordType, Registry
from shared.sync.store import Scope
from shared.sync.tables import FeedCounter, Identity, UnitRow, Upstream
from shared.sync.transport import Clients, SyncFailed, _link, corrupt_reply
from shared.sync.wire import Link

Progress = Callable[[str, int, int], None]
"""Called as (step, done, total) while a round runs; total is 0 when unknown."""


@dataclass
class RoundReport:
    pushed: int = 0
    stored_at_parent: int = 0
    refused: list[Refused] = field(default_factory=list)
    pulled: int = 0
    applied: int = 0
    repaired: int = 0
    purged: int = 0
    bumped: int = 0
    verified: bool = False


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite gives stored instants back without their zone; they were written in UTC."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


# Built once: building this select (two aliases of the units table) took 1.7 of the 2 ms `_state` cost per round,
# more than running it; SQLAlchemy's compiled cache spares only the compile.
_ME, _UP = aliased(UnitRow, name="me"), aliased(UnitRow, name="up")
_STATE = (
    select(
        Identity.unit,
        _ME.path,
        _ME.depth,
        _UP.depth.label("parent_depth"),
        Upstream.push_cursor,
        Upstream.pull_cursor,
        Upstream.scope,
        FeedCounter.last,
        Upstream.last_attempt,
        Upstream.last_error,
        Upstream.failures,
    )
    .select_from(Identity)
    .join(Upstream, Upstream.url == bindparam("url"))
    .join(FeedCounter, FeedCounter.id == 1)
    .outerjoin(_ME, _ME.id == Identity.unit)
    .outerjoin(_UP, _UP.id == bindparam("parent_unit", type_=Id()))
)


@dataclass(frozen=True, slots=True)
class _State:
    """What a round needs to know of this node and its upstream, read in one query."""

    unit: uuid.UUID
    path: str | None
    depth: int | None
    parent_depth: int | None
    push_cursor: int
    pull_cursor: int
    scope: str
    head: int
    last_attempt: datetime | None = None
    healthy: bool = False
    """The upstream's row shows no error and no failure in a row."""


class ChildBase:
    """A node's sync with one of its upstreams: the state and helpers its push, pull and verify steps share."""

    def __init__(
        self,
        db: Database,
        registry: Registry,
        settings: SyncSettings,
        upstream: Any,
        *,
        progress: Progress | None = None,
        clients: Clients | None = None,
    ) -> None:
        self.db = db
        self.clients = clients
        self.registry = registry
        self.settings = settings
        self.url = upstream.url
        self.credential = upstream.credential
        self.parent_unit = upstream.parent_unit
        self.progress = progress or (lambda step, done, total: None)
        self.push_cursor: int | None = None
        """This round's push cursor once a push was acknowledged (the pull tells it to the parent)."""

    @contextlib.asynccontextmanager
    async def _http(self) -> AsyncIterator[Link]:
        """The loop's kept link to this upstream, else one for this round only."""
        if self.clients is not None:
            yield self.clients.get(self.url, self.settings)
            return
        link = _link(self.url, self.settings)
        try:
            yield link
        finally:
            await link.aclose()

    async def _me(self, conn: AsyncConnection) -> tuple[uuid.UUID, str | None, int | None, int | None]:
        """This node's unit, its path and depth (None before the tree arrived), and the parent's depth."""
        state = await self._state(conn)
        return state.unit, state.path, state.depth, state.parent_depth

    async def _state(self, conn: AsyncConnection) -> _State:
        """This node's place, its cursors with this upstream and its feed head: one query, as every SQLite
        statement through aiosqlite costs a thread hop and a no-op round should cost next to nothing."""
        row = (await conn.execute(_STATE, {"url": self.url, "parent_unit": self.parent_unit})).first()
        if row is None or row.unit is None:
            raise SyncFailed(
                "Nút chưa được đăng ký cho đơn vị nào (hãy chạy `nqsync node init`).",
                "This node is not enrolled for any unit; run `nqsync node init`.",
                code="not_enrolled",
                status=400,
            )
        return _State(
            unit=row.unit,
            path=None if row.path is None else str(row.path),
            depth=None if row.depth is None else int(row.depth),
            parent_depth=row.parent_depth,
            push_cursor=int(row.push_cursor),
            pull_cursor=int(row.pull_cursor),
            scope=str(row.scope),
            head=int(row.last),
            last_attempt=_aware(row.last_attempt),
            healthy=row.last_error is None and not row.failures,
        )

    async def _bump(self, conn: AsyncConnection, stale: list[Stale]) -> int:
        """Records the parent holds at an older rev, or at one as high with other content: send ours again.

        A copy above the parent's rev (the parent was restored from a backup) goes up again as it is, whoever
        owns it: a relay never writes a record of its children at a new rev, so the owner's copy is what the
        parent gets back. A record of this node's own unit the parent holds at as high a rev (this node was
        restored: its revs went back) is written again above that rev, since it is the owner's latest edit and
        would otherwise be ignored as a duplicate. Returns how many were rewritten or sent again.
        """
        if not stale:
            return 0
        count = 0
        me = (await conn.execute(select(Identity.unit))).scalar_one_or_none()
        by_type: dict[str, list[Stale]] = defaultdict(list)
        for s in stale:
            by_type[s.type].append(s)
        for type_name, items in by_type.items():
            rt = self.registry.get(type_name)
            if rt is None:
                continue
            held = {rec.id: rec for _, rec in await store.fetch(conn, rt, [s.id for s in items])}
            again = [s.id for s in items if s.id in held and held[s.id].rev > s.rev]
            bumped = [
                msgspec.structs.replace(held[s.id], rev=s.rev + 1)
                for s in items
                if s.id in held and held[s.id].rev <= s.rev and store.as_uuid(held[s.id].owner) == me
            ]
            await store.restamp(conn, rt, again, clear_origin=True)
            await store.apply(conn, rt, bumped, origin=None)
            count += len(again) + len(bumped)
        return count

    def _decode(self, rt: RecordType, batch: Batch, *, views: bool = False) -> tuple[list[Record], list[bytes]]:
        """Records from the parent, with their wire forms kept to store and relay as they are.

        A batch that does not decode (corrupt, or nested past the recursion limit by a misbehaving parent) fails
        the round before anything of it is written: the caller's transaction is rolled back.
        """
        try:
            return (rt.view_decoder if views else rt.batch_decoder).decode(batch.rows), split_batch(batch)
        except RecursionError:
            raise corrupt_reply(self.url, f"{rt.name} records nested too deeply") from None
        except (msgspec.DecodeError, ValueError) as exc:
            raise corrupt_reply(self.url, f"{rt.name} records: {exc}") from None

    async def _holding_scope(self, conn: AsyncConnection, *, for_parent: bool = True) -> Scope:
        """What this node holds: its ancestors' down-records, its subtree's records, its own.

        `for_parent` keeps only what may also be at the parent (the ceiling counted from the parent's depth), which
        is what digests compare; without it, the ceiling counts from this node's depth: what it may keep at all.
        """
        unit, path, depth, parent_depth = await self._me(conn)
        return Scope(
            unit=unit,
            path=path or "/",
            down=True,
            up=True,
            exclude_own=False,
            ceiling_depth=parent_depth if for_parent else depth,
        )
