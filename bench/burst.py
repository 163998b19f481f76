"""The burst (issue 7, figure 4): many simulated nodes, each a small push and a pull, against the hub."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import select, text

from bench import env
from bench.common import REGISTRY, SETTINGS, Config, Result
from bench.cpu import CpuMeter, parent_pid
from shared.sync import store
from shared.sync.parent import Child as ChildAtParent
from shared.sync.parent import Parent
from shared.sync.protocol import (
    MEDIA_TYPE,
    PROTOCOL,
    PROTOCOL_HEADER,
    Batch,
    PullRequest,
    PushRequest,
    pack,
    raw_array,
)
from shared.sync.tables import UnitRow


class NoReply(Exception):
    """The hub closed the connection without answering (it refused it at once, or dropped it)."""


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str, body: bytes, credential: str
) -> tuple[int, bool]:
    """One HTTP/1.1 POST on a kept-alive connection: the status, and whether the hub keeps the connection. A
    minimal client: the load generator shares the 2 cores with the hub, so it must cost as little as possible."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: hub\r\ncontent-type: {MEDIA_TYPE}\r\ncontent-encoding: zstd\r\n"
        f"{PROTOCOL_HEADER}: {PROTOCOL}\r\nauthorization: Bearer {credential}\r\ncontent-length: {len(body)}\r\n\r\n"
    )
    writer.write(head.encode() + body)
    status_line = await reader.readline()
    parts = status_line.split()
    if len(parts) < 2 or not parts[1].isdigit():
        raise NoReply(status_line[:40])
    length = 0
    keep = True
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            keep = False
    await reader.readexactly(length)
    return int(parts[1]), keep


async def _postmaster(database: str) -> int | None:
    """The PostgreSQL server process whose children serve `database` (None when it is not on this machine)."""
    raw = await asyncpg.connect(env.dsn(database))
    try:  # read while the backend lives: it exits with the connection
        return parent_pid(int(await raw.fetchval("SELECT pg_backend_pid()")))
    finally:
        await raw.close()


async def _commit_latency(database: str) -> tuple[float, float]:
    """p50/p90 ms of a one-row transaction's commit on this server: the floor under each push, since pushes take
    the feed counter's row lock in turn and hold it through their commit (the out-of-order commit guard)."""
    raw = await asyncpg.connect(env.dsn(database))
    try:
        await raw.execute("CREATE TABLE IF NOT EXISTS bench_commit_probe (x int)")
        lat = []
        for _ in range(100):
            t = time.perf_counter()
            async with raw.transaction():
                await raw.execute("INSERT INTO bench_commit_probe VALUES (1)")
            lat.append(time.perf_counter() - t)
        await raw.execute("DROP TABLE bench_commit_probe")
    finally:
        await raw.close()
    return env.percentile(lat, 50) * 1000, env.percentile(lat, 90) * 1000


async def burst(cfg: Config) -> list[Result]:
    n = cfg.burst_nodes
    districts = max(1, n // 100)
    tree = env.build_tree(districts, -(-n // districts), 0)
    nodes = tree.bases[:n]
    hub = await env.Hub.create(cfg.dbs, tree, cfg.tmp)
    await hub.enrol(nodes)
    parent = Parent(hub.db, REGISTRY, SETTINGS)
    # What each node would send: 5 new grades, then a pull from the cursor and scope its last round left it.
    async with hub.db.read() as conn:
        head = await store.head(conn)
        places = {r.id: (r.path, r.depth) for r in await conn.execute(select(UnitRow.id, UnitRow.path, UnitRow.depth))}
        tokens = {
            u.id: await parent.scope_token(conn, ChildAtParent(uuid.uuid4(), u.id, *places[u.id]), REGISTRY.names())
            for u in nodes
        }
    bodies = []
    for i, u in enumerate(nodes):
        wires = [store.encode_record(r) for r in env.grades([u.id], 5, seed=i)]
        push_body = pack(
            PushRequest(protocol=PROTOCOL, after=0, upto=5, batches=[Batch("essay_grade", raw_array(wires))])
        )
        pull_body = pack(PullRequest(protocol=PROTOCOL, cursor=head, scope=tokens[u.id], types=REGISTRY.names()))
        bodies.append((hub.credentials[u.id], push_body, pull_body))
    results: list[Result] = []
    commit_ms = await _commit_latency(hub.database)
    await hub.start(workers=cfg.burst_workers, in_process=cfg.quick)
    port = int(hub.url.rsplit(":", 1)[1])
    meter = CpuMeter(hub.proc.pid if hub.proc else None, await _postmaster(hub.database), hub.database)
    note = (
        f"a one-row commit here takes p50 {commit_ms[0]:.1f} ms, p90 {commit_ms[1]:.1f} ms (pushes serialise on "
        "the feed counter through their commit)"
    )
    try:
        runs = [cfg.burst_window] if cfg.quick else [cfg.burst_window, 0.0]
        for window in runs:
            run = await _burst_run(cfg, hub, bodies, port, window, meter)
            how = f"arriving evenly over {window:g} s" if window else "all at once"
            results.append(
                Result(
                    f"burst: {n:,} nodes {how}, push 5 + pull each, hub with {cfg.burst_workers} workers",
                    run.figure,
                    "",
                    "",
                    "p99 < 1 s, 0 errors" if window else "(capacity: no target)",
                    run.met if window else None,
                    f"{run.stored:,} of {5 * n:,} grades stored; {note}",
                    run.raw,
                )
            )
        if cfg.burst_sweep and not cfg.quick:
            results.append(await _sustainable(cfg, hub, bodies, port, meter, capacity=results[-1].raw["rate"]))
    finally:
        await hub.close()
    return results


@dataclass
class _Run:
    figure: str
    met: bool
    stored: int
    raw: dict[str, Any]


async def _burst_run(
    cfg: Config, hub: env.Hub, bodies: list[tuple[str, bytes, bytes]], port: int, window: float, meter: CpuMeter
) -> _Run:
    """Every node once, arriving evenly over `window` seconds (0: all at once); latency from each node's start."""
    n = len(bodies)
    lat: list[float] = []
    errors: list[str] = []

    async def one(i: int, credential: str, push_body: bytes, pull_body: bytes, t0: float, gap: float) -> None:
        start = t0 + i * gap
        await asyncio.sleep(max(0.0, start - time.perf_counter()))
        step = "push"
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                status, keep = await _request(reader, writer, "/sync/v1/push", push_body, credential)
                if status != 200:
                    # A node's round stops at a failed push (it tries again after its backoff).
                    errors.append(f"push HTTP {status}")
                else:
                    step = "pull"
                    if not keep:  # the hub closed it after answering: a node's link opens a new one
                        writer.close()
                        reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    status, _ = await _request(reader, writer, "/sync/v1/pull", pull_body, credential)
                    if status != 200:
                        errors.append(f"pull HTTP {status}")
            finally:
                writer.close()
        except Exception as exc:
            errors.append(f"{step} {type(exc).__name__}")
        # From the moment the node meant to start: a late start is the hub's delay too.
        lat.append(time.perf_counter() - start)

    # A node syncs every few minutes, so the hub never holds its credential or scope token from its last round:
    # let the caches of the run before expire, or this run would skip the lookups every real round makes.
    await asyncio.sleep(0 if cfg.quick else SETTINGS.cache_seconds + 0.5)
    # Then every run starts from the same state: after the wait, when the hub has flushed the last run's activity
    # (its UPDATEs of child_nodes, in another order, deadlocked with this one when it came first).
    async with hub.db.write() as conn:
        await conn.execute(text("TRUNCATE essay_grades"))
        await conn.execute(text("UPDATE child_nodes SET acked_push = 0"))
    t0 = time.perf_counter() + 0.2
    gap = window / n
    async with meter.measure() as cpu:
        await asyncio.gather(*(one(i, c, pb, lb, t0, gap) for i, (c, pb, lb) in enumerate(bodies)))
    total = time.perf_counter() - t0
    async with hub.db.read() as conn:
        stored = (await conn.execute(text("SELECT count(*) FROM essay_grades"))).scalar_one()
    p50, p99 = env.percentile(lat, 50), env.percentile(lat, 99)
    kinds = Counter(errors)
    err = f"{len(errors)} errors" + (f" ({', '.join(f'{k} ×{c}' for k, c in kinds.most_common(4))})" if errors else "")
    ms = {group: seconds * 1000 / n for group, seconds in cpu.items()}
    per_round = ", ".join(f"{group} {ms[group]:.2f}" for group in ("hub", "postgres", "generator"))
    how = f"arriving evenly over {window:g} s ({n / window:,.0f}/s)" if window else "all at once"
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    cfg.log(
        f"  burst {n} nodes {how}: {n / total:,.0f} rounds/s, p50 {p50:.3f} s, p99 {p99:.3f} s, {err}, "
        f"{stored:,} stored; CPU ms per round: {per_round} (total {sum(ms.values()):.2f}), "
        f"{meter.backends} PostgreSQL backends; load {load}"
    )
    return _Run(
        f"p50 {p50 * 1000:,.0f} ms, p99 {p99 * 1000:,.0f} ms, {n / total:,.0f} rounds/s, {err}; CPU ms per round "
        f"{per_round}",
        p99 < 1 and not errors and stored == 5 * n,
        stored,
        {"p50": p50, "p99": p99, "rate": n / total, "errors": len(errors), "window": window, "cpu_ms": ms},
    )


async def _sustainable(
    cfg: Config, hub: env.Hub, bodies: list[tuple[str, bytes, bytes]], port: int, meter: CpuMeter, capacity: float
) -> Result:
    """The largest arrival rate (rounds/s) the hub serves with p99 < 1 s and no errors: all nodes arriving evenly
    at rates stepping down from 90 % of the all-at-once throughput, until one is met."""
    n = len(bodies)
    tried: list[str] = []
    rate = 0.9 * capacity
    met = 0.0
    for _ in range(5):
        run = await _burst_run(cfg, hub, bodies, port, n / rate, meter)
        tried.append(f"{rate:,.0f}/s: p99 {run.raw['p99'] * 1000:,.0f} ms")
        if run.met:
            met = rate
            break
        rate *= 0.75
    cores = os.cpu_count() or 1
    return Result(
        f"burst: sustainable arrival rate, {n:,} nodes, hub with {cfg.burst_workers} workers",
        f"{met:,.0f} rounds/s with p99 < 1 s" if met else "none of the rates tried",
        "",
        "",
        "(300 rounds/s for 3,000 nodes in 10 s)",
        None,
        f"tried {'; '.join(tried)}; all-at-once throughput {capacity:,.0f} rounds/s = {capacity / cores:,.0f} "
        f"rounds/s per core on {cores} cores shared with PostgreSQL and the load generator",
        {"sustainable": met, "capacity": capacity, "tried": tried},
    )
