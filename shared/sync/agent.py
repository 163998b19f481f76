"""The node's sync loop: a round every interval through the first upstream that answers, with backoff and jitter."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import weakref
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from shared.db.engine import Database
from shared.settings import SyncSettings
from shared.sync.client import Child, Clients, Progress, RoundReport, SyncFailed
from shared.sync.registry import Registry
from shared.sync.tables import Upstream
from shared.sync.tombstones import collect_tombstones

log = logging.getLogger("nqsync.sync")

# One round at a time per database and event loop: the loop's round and a person's "sync now" take turns
# (two rounds at once are safe, being idempotent, but would push and pull the same rows twice).
_round_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _round_lock(db: Database) -> asyncio.Lock:
    locks = _round_locks.setdefault(asyncio.get_running_loop(), {})
    return locks.setdefault(db.url, asyncio.Lock())


async def upstreams(db: Database) -> list[Any]:
    async with db.read(single=True) as conn:
        rows = (await conn.execute(select(Upstream).order_by(Upstream.priority, Upstream.url))).all()
    return list(rows)


async def sync_once(
    db: Database,
    registry: Registry,
    settings: SyncSettings,
    *,
    via: str | None = None,
    verify: bool = False,
    progress: Progress | None = None,
    clients: Clients | None = None,
) -> tuple[str, RoundReport]:
    """One round with the first upstream that answers (or only `via`); raises the last failure if none does."""
    candidates = [u for u in await upstreams(db) if via is None or u.url == via]
    if not candidates:
        raise SyncFailed(
            "Nút chưa được đăng ký với cấp trên nào (hãy chạy `nqsync node init --parent URL --code MÃ`).",
            "This node has no upstream; run `nqsync node init --parent URL --code CODE`.",
            code="no_upstream",
            status=400,
        )
    failure: SyncFailed | None = None
    for upstream in candidates:
        child = Child(db, registry, settings, upstream, progress=progress, clients=clients)
        try:
            async with _round_lock(db):
                return upstream.url, await child.round(verify=verify)
        except SyncFailed as exc:
            log.warning("sync with %s failed: %s", upstream.url, exc.message_en)
            failure = exc
            if not exc.retryable:
                break
    assert failure is not None
    raise failure


def backoff(
    failures: int,
    settings: SyncSettings,
    rand: Callable[[], float] = random.random,
    *,
    retry_after: float | None = None,
) -> float:
    """Seconds to wait after `failures` failed rounds in a row: doubling from 5 s, capped, with full jitter.

    A parent's Retry-After (a 503 when it is full) is a floor, spread over up to twice it so the nodes it turned
    away do not all come back in the same second; capped like the backoff (a hostile value cannot stop a node).
    """
    if failures <= 0:
        return settings.interval_seconds
    ceiling = min(settings.max_backoff_seconds, 5.0 * 2.0 ** (failures - 1))
    wait = ceiling / 2 + rand() * ceiling / 2
    if retry_after is not None and retry_after > 0:
        wait = max(wait, min(settings.max_backoff_seconds, retry_after * (1 + rand())))
    return wait


async def run_forever(db: Database, registry: Registry, settings: SyncSettings, stop: asyncio.Event) -> None:
    """Sync until `stop` is set; a failure is logged and retried after a backoff, never raised."""
    failures = 0
    rounds = 0
    clients = Clients()
    try:
        while not stop.is_set():
            rounds += 1
            failures, retry_after = await _loop_round(db, registry, settings, clients, rounds, failures)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=backoff(failures, settings, retry_after=retry_after))
    finally:
        await clients.aclose()


async def _loop_round(
    db: Database, registry: Registry, settings: SyncSettings, clients: Clients, rounds: int, failures: int
) -> tuple[int, float | None]:
    """One round of the loop, logged; returns the failures in a row after it, and the parent's Retry-After."""
    verify = rounds % max(settings.verify_every_rounds, 1) == 0
    try:
        url, report = await sync_once(db, registry, settings, verify=verify, clients=clients)
    except SyncFailed as exc:
        log.warning("sync round failed (%d in a row): %s", failures + 1, exc.message_en)
        return failures + 1, exc.retry_after
    except Exception:
        log.exception("sync round crashed (%d in a row)", failures + 1)
        return failures + 1, None
    log.info("synced with %s: pushed %d, pulled %d, refused %d", url, report.pushed, report.pulled, len(report.refused))
    if verify:
        await collect_now(db, registry, settings)
    return 0, None


async def collect_now(db: Database, registry: Registry, settings: SyncSettings) -> None:
    """The loop's tombstone collection, as often as it verifies; a failure is logged, never raised."""
    try:
        grace = timedelta(days=settings.tombstone_grace_days)
        done = await collect_tombstones(db, registry, grace=grace, now=datetime.now(UTC))
    except Exception:
        log.exception("tombstone collection failed")
        return
    if done.total:
        log.info("collected %d tombstones (horizon %d)", done.total, done.horizon)
