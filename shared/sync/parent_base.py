"""What the parent's endpoints share: its refusals, the authenticated child, this instance's unit, scope tokens."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import bindparam, select

from shared.db.engine import Database, fetch
from shared.settings import SyncSettings
from shared.sync.registry import Registry
from shared.sync.store import Scope
from shared.sync.tables import FeedCounter, Identity, UnitRow

_EPOCH = select(FeedCounter.epoch).where(FeedCounter.id == 1)
# A unit's subtree: walked down the `parent` index rather than `path LIKE 'prefix%'`, which no index serves under a
# non-C collation (a scan of the units table: 2.3 ms of PostgreSQL's CPU at 8,000 units, 0.13 ms this way). UNION,
# not UNION ALL, so a cycle in bad data ends the walk; the path test keeps exactly the rows the prefix named.
_BELOW = select(UnitRow.id, UnitRow.path).where(UnitRow.id == bindparam("unit")).cte("below", recursive=True)
_BELOW = _BELOW.union(select(UnitRow.id, UnitRow.path).join(_BELOW, UnitRow.parent == _BELOW.c.id))
_SUBTREE = select(_BELOW.c.id, _BELOW.c.path).where(_BELOW.c.path.startswith(bindparam("path"))).order_by(_BELOW.c.id)


class SyncError(Exception):
    """A refusal with an HTTP status, a stable code and plain words in Vietnamese and English."""

    def __init__(self, status: int, code: str, message_vi: str, message_en: str, **detail: Any) -> None:
        super().__init__(message_en)
        self.status = status
        self.code = code
        self.message_vi = message_vi
        self.message_en = message_en
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Child:
    """An authenticated child node and where its unit stands in the tree now."""

    node_id: uuid.UUID
    unit: uuid.UUID
    path: str
    depth: int
    acked_push: int = 0
    """The child's push cursor as acknowledged here when it authenticated (cached: never ahead of the stored one)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class ParentBase:
    """Serves the children of this instance's unit: the state and lookups every endpoint shares."""

    def __init__(
        self, db: Database, registry: Registry, settings: SyncSettings, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.db = db
        self.registry = registry
        self.settings = settings
        self.clock = clock
        self._auth_cache: dict[str, tuple[float, Child]] = {}
        self._activity: dict[uuid.UUID, dict[str, Any]] = {}
        self._acked: dict[uuid.UUID, int] = {}
        self._token_cache: dict[tuple[uuid.UUID, str], tuple[float, str]] = {}
        self._reach_cache: dict[uuid.UUID, tuple[float, Scope]] = {}
        self._subsets: dict[tuple[str, ...], Registry] = {}
        self._subtree_cache: dict[tuple[uuid.UUID, str], tuple[float, list[tuple[uuid.UUID, str]]]] = {}
        self._my_unit: tuple[float, tuple[uuid.UUID, str, int]] | None = None
        # Pushes serialise on the feed counter's row lock until commit; more of them in flight than this per
        # process only hold pooled connections while they wait, starving the pulls of connections in a burst.
        self._writers = asyncio.Semaphore(max(1, settings.concurrent_pushes))
        self._decoders = {rt.name: msgspec.msgpack.Decoder(rt.struct) for rt in registry}
        signature = ";".join(f"{rt.name}:{rt.ceiling}:{rt.audience.value}" for rt in registry)
        self._registry_signature = signature

    # Identity and tree

    async def my_unit(self) -> tuple[uuid.UUID, str, int]:
        """This instance's unit (the root, on the hub) with its path and depth.

        Cached for `SyncSettings.cache_seconds` like credentials: every push asks, and it changes only when the
        tree is reorganised (two queries per push otherwise).
        """
        cached = self._my_unit
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        found = await self._load_my_unit()
        self._my_unit = (time.monotonic() + self.settings.cache_seconds, found)
        return found

    async def _load_my_unit(self) -> tuple[uuid.UUID, str, int]:
        async with self.db.read() as conn:
            ident = (await conn.execute(select(Identity.unit))).scalar_one_or_none()
            if ident is None:
                row = (
                    await conn.execute(
                        select(UnitRow.id, UnitRow.path, UnitRow.depth).where(
                            UnitRow.parent.is_(None), UnitRow.valid_to.is_(None)
                        )
                    )
                ).first()
            else:
                row = (
                    await conn.execute(select(UnitRow.id, UnitRow.path, UnitRow.depth).where(UnitRow.id == ident))
                ).first()
        if row is None:
            raise SyncError(
                503,
                "no_tree",
                "Máy chủ chưa có cây đơn vị; hãy nhập danh sách đơn vị trước.",
                "This instance has no unit tree yet; import the units first.",
            )
        return row.id, row.path, row.depth

    async def scope_token(self, conn: Any, child: Child, types: Sequence[str], *, epoch: str | None = None) -> str:
        """Names the scope a cursor was earned under: the child's place, its subtree's shape, the types' rules.

        A unit moved into or out of the child's subtree, a type the child learns, or a restore of this instance
        from a backup (the feed's epoch) changes the token, and the child then re-syncs by digest instead of
        trusting its cursor. Cached briefly per child: a move is seen
        within `SyncSettings.cache_seconds`.
        """
        known = ";".join(sorted(set(types) & set(self.registry.names())))
        key = (child.unit, known)
        cached = self._token_cache.get(key)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        shape = hashlib.sha256()
        for unit, path in await self.subtree(conn, child):
            shape.update(f"{unit}{path}".encode())
        # A restored feed's epoch (empty until the first restore, so tokens earned before it stay valid).
        if epoch is None:  # the pull reads it with the head
            epoch = (await conn.execute(_EPOCH)).scalar_one_or_none() or ""
        named = f"{child.path}|{self._registry_signature}|{known}|{shape.hexdigest()}" + (f"|{epoch}" if epoch else "")
        token = hashlib.sha256(named.encode()).hexdigest()[:24]
        self._token_cache[key] = (time.monotonic() + self.settings.cache_seconds, token)
        return token

    async def subtree(self, conn: Any, child: Child) -> Sequence[tuple[uuid.UUID, str]]:
        """(id, path) of every unit at or below the child's, by id: the scope token's shape and the pull's owners.

        One query for both, cached like them (a burst's rounds each missed both caches: two scans of the units
        table per pull, ~1.4 ms of PostgreSQL's CPU at 3,000 units).
        """
        key = (child.unit, child.path)
        cached = self._subtree_cache.get(key)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        rows = [(unit, path) for unit, path in await fetch(conn, _SUBTREE, {"unit": child.unit, "path": child.path})]
        self._subtree_cache[key] = (time.monotonic() + self.settings.cache_seconds, rows)
        return rows

    def _types(self, names: Sequence[str]) -> Registry:
        """The registry restricted to the types a child knows (all, for a child that does not say)."""
        if not names:
            return self.registry
        wanted = set(names)
        return Registry(*(rt for rt in self.registry if rt.name in wanted))
