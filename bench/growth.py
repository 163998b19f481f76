"""Growth (issue 14, item 7): each figure at ×1, ×3 and ×10 of its base size, with its exponent of growth.

The exponent is the least-squares slope of log(time) against log(size): 1 is linear, 0 is flat, 2 quadratic.
- push of n rows and pull of n rows: time against n; both must stay near 1.
- a pull returning a fixed 100 rows, and a round bringing nothing, while N rows owned elsewhere were written in
  the seq window since the node's cursor: time against N; near 0 is "a pull costs what it returns" (scoped reads).
Only the timed round is measured; writing the rows beforehand is not.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from sqlalchemy import delete, text, update

from bench import env
from bench.common import Config, Result
from shared.catalogue import build_registry
from shared.db.engine import Database
from shared.essays.records import ESSAY_GRADE
from shared.settings import SyncSettings
from shared.sync import store
from shared.sync.agent import upstreams
from shared.sync.client import Child
from shared.sync.tables import Upstream

MULTIPLES = (1, 3, 10)
IN_SCOPE = 100
"""Rows the windowed pull returns, whatever the size of the window around them."""


REGISTRY = build_registry()


async def _child(db: Database) -> Child:
    return Child(db, REGISTRY, SyncSettings(), (await upstreams(db))[0])


def exponent(sizes: Sequence[float], times: Sequence[float]) -> float:
    """Slope of the least-squares line through (log size, log time)."""
    xs, ys = [math.log(s) for s in sizes], [math.log(t) for t in times]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


def _result(name: str, unit: str, sizes: list[int], times: list[float], target: str, limit: float) -> Result:
    slope = exponent(sizes, times)
    points = ", ".join(f"{s:,} {unit}: {t * 1000:.1f} ms" for s, t in zip(sizes, times, strict=True))
    return Result(
        name,
        f"exponent {slope:.2f}",
        "",
        "",
        target,
        slope <= limit,
        points,
        {"exponent": slope, "sizes": sizes, "times": times},
    )


async def growth(cfg: Config) -> list[Result]:
    push_base, pull_base, feed_base = (100, 100, 500) if cfg.quick else (2_000, 2_000, 10_000)
    tree = env.build_tree(3, 5, 10)
    hub = await env.Hub.create(cfg.dbs, tree, cfg.tmp)
    district = tree.districts[0]
    await hub.enrol([district])
    await hub.start(workers=1, in_process=cfg.quick)
    try:
        return [
            await _push(cfg, hub, [push_base * m for m in MULTIPLES]),
            await _pull(cfg, hub, [pull_base * m for m in MULTIPLES]),
            *await _window(cfg, hub, [feed_base * m for m in MULTIPLES]),
        ]
    finally:
        await hub.close()


async def _push(cfg: Config, hub: env.Hub, sizes: list[int]) -> Result:
    """A district node pushes n grades of its bases to the hub (a round: the push and the pull after it)."""
    district = hub.tree.districts[0]
    bases = hub.tree.bases_of(district)
    times = []
    for n in sizes:
        node = await env.node_database(cfg.template, cfg.tmp / f"growth-push-{n}.sqlite3", district.id, hub)
        try:
            await (await _child(node)).round()  # the tree arrives
            records = env.grades([b.id for b in bases], n)
            async with node.write() as conn:
                for b in bases:
                    await store.apply(conn, ESSAY_GRADE, [r for r in records if r.owner == b.id], origin=b.id)
            runs = []
            for _ in range(cfg.repeat):
                async with hub.db.write() as conn:
                    await conn.execute(text("TRUNCATE essay_grades"))
                    await conn.execute(text("UPDATE child_nodes SET acked_push = 0"))
                async with node.write() as conn:
                    await conn.execute(update(Upstream).values(push_cursor=0))
                child = await _child(node)
                t = time.perf_counter()
                report = await child.round()
                runs.append(time.perf_counter() - t)
                assert report.stored_at_parent == n, report
            times.append(env.median(runs))
            cfg.log(f"  push {n:,}: {times[-1] * 1000:.0f} ms")
        finally:
            await node.dispose()
    async with hub.db.write() as conn:
        await conn.execute(text("TRUNCATE essay_grades"))
    return _result("growth: push n grades, district → hub", "rows", sizes, times, "≈ 1 (linear), ≤ 1.2", 1.2)


async def _pull(cfg: Config, hub: env.Hub, sizes: list[int]) -> Result:
    """A new base node pulls the n grades of its cells (its bootstrap)."""
    cells = hub.tree.cells
    times = []
    for n in sizes:
        async with hub.db.write() as conn:
            await conn.execute(text("TRUNCATE essay_grades"))
        records = env.grades([c.id for c in cells], n)
        async with hub.db.write() as conn:
            for c in cells:
                await store.apply(conn, ESSAY_GRADE, [r for r in records if r.owner == c.id], origin=c.id)
        async with hub.db.write() as conn:
            await conn.execute(text("ANALYZE essay_grades"))
        runs = []
        for i in range(cfg.repeat):
            path = cfg.tmp / f"growth-pull-{n}-{i}.sqlite3"
            await hub.enrol([hub.tree.bases[0]])  # a new node's credential: see `transfer.bootstrap`
            node = await env.node_database(cfg.template, path, hub.tree.bases[0].id, hub)
            try:
                child = await _child(node)
                t = time.perf_counter()
                report = await child.round()
                runs.append(time.perf_counter() - t)
                assert report.applied >= n, report
            finally:
                await node.dispose()
        times.append(env.median(runs))
        cfg.log(f"  pull {n:,}: {times[-1] * 1000:.0f} ms")
    async with hub.db.write() as conn:
        await conn.execute(text("TRUNCATE essay_grades"))
    return _result("growth: pull n grades, hub → new base node", "rows", sizes, times, "≈ 1 (linear), ≤ 1.2", 1.2)


async def _window(cfg: Config, hub: env.Hub, sizes: list[int]) -> list[Result]:
    """A base node's round while N grades owned by other units sit in the window after its cursor: one that pulls
    `IN_SCOPE` rows of its cells, and one that brings nothing."""
    tree = hub.tree
    base = tree.bases[0]
    others = [b.id for b in tree.bases if b.current.parent != base.current.parent]  # other districts' bases
    await hub.enrol([base])
    node = await env.node_database(cfg.template, cfg.tmp / "growth-window.sqlite3", base.id, hub)
    pulls, noops = [], []
    try:
        await (await _child(node)).round()
        async with node.read() as conn:
            cursor = int((await conn.execute(text("SELECT pull_cursor FROM upstreams"))).scalar_one())
        mine = env.grades([c.id for c in tree.cells], IN_SCOPE, seed=11)
        async with hub.db.write() as conn:
            for c in tree.cells:
                await store.apply(conn, ESSAY_GRADE, [r for r in mine if r.owner == c.id], origin=c.id)
        async with hub.db.read() as conn:
            after_mine = await store.head(conn)
        written = 0
        for n in sizes:
            extra = env.grades(others, n - written, seed=n)
            async with hub.db.write() as conn:
                for owner in others:
                    await store.apply(conn, ESSAY_GRADE, [r for r in extra if r.owner == owner], origin=owner)
            written = n
            async with hub.db.write() as conn:
                await conn.execute(text("ANALYZE essay_grades"))
            runs, idle = [], []
            warm = n == sizes[0]  # one untimed round first: caches, prepared statements
            for _ in range(cfg.repeat + warm):
                async with node.write() as conn:  # back to before the window, without the rows it brings
                    await conn.execute(delete(ESSAY_GRADE.table))
                    await conn.execute(update(Upstream).values(pull_cursor=cursor))
                child = await _child(node)
                t = time.perf_counter()
                report = await child.round()
                runs.append(time.perf_counter() - t)
                assert report.pulled == IN_SCOPE, report
                for _ in range(3):
                    async with node.write() as conn:  # past its own rows: only other units' rows remain ahead
                        await conn.execute(update(Upstream).values(pull_cursor=after_mine))
                    child = await _child(node)
                    t = time.perf_counter()
                    report = await child.round()
                    idle.append(time.perf_counter() - t)
                    assert report.pulled == 0, report
            if warm:
                runs, idle = runs[1:], idle[3:]
            pulls.append(env.median(runs))
            noops.append(env.median(idle))
            cfg.log(f"  window {n:,}: pull {pulls[-1] * 1000:.1f} ms, nothing in scope {noops[-1] * 1000:.1f} ms")
    finally:
        await node.dispose()
    return [
        _result(
            f"growth: pull of {IN_SCOPE} rows among N rows of other units since the cursor",
            "rows in the window",
            sizes,
            pulls,
            "≈ 0 (costs what it returns), ≤ 0.3",
            0.3,
        ),
        _result(
            "growth: round with nothing in scope, N rows of other units since the cursor",
            "rows in the window",
            sizes,
            noops,
            "≈ 0, ≤ 0.3",
            0.3,
        ),
    ]
