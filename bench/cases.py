"""The benchmarks of issue 7. Each returns `Result`s: the figure, the baseline measured in the same run, the ratio.

Only the step a benchmark names is timed; building trees, records and databases is not.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import uvicorn
from sqlalchemy import event, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

from bench import env
from shared.app import create_app
from shared.catalogue import build_registry
from shared.consolidation.service import consolidate
from shared.core.scope import unit_info
from shared.db.engine import Database
from shared.documents.records import DocumentRecord
from shared.essays.records import ESSAY_GRADE, EssayGradeRecord
from shared.ids import new_id
from shared.sample_activity import sample_follow_up, sample_round, store_sample
from shared.sample_province import sample_units
from shared.settings import DatabaseSettings, Settings, SyncSettings
from shared.sync import store
from shared.sync.agent import upstreams
from shared.sync.client import Child, Clients
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
from shared.sync.tables import UnitRow, Upstream
from shared.units.records import store_units


@dataclass
class Result:
    name: str
    figure: str
    baseline: str = ""
    ratio: str = ""
    target: str = ""
    met: bool | None = None
    note: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class Config:
    quick: bool
    repeat: int
    tmp: Path
    dbs: env.Databases
    template: env.SqliteTemplate
    push_rows: int = 100_000
    bootstrap_rows: int = 100_000
    noop_rounds: int = 300
    burst_nodes: int = 3000
    burst_window: float = 10.0
    burst_workers: int = 2
    burst_sweep: bool = True
    log: Callable[[str], None] = print


SETTINGS = SyncSettings()
REGISTRY = build_registry()


async def _child(db: Database, clients: Clients | None = None) -> Child:
    up = (await upstreams(db))[0]
    return Child(db, REGISTRY, SETTINGS, up, clients=clients)


def _stored_rows(records: Sequence[EssayGradeRecord], origin: uuid.UUID) -> list[tuple[Any, ...]]:
    """The rows exactly as the store writes them (fields, seq, origin, wire, hash)."""
    return [
        store._row_values(ESSAY_GRADE, rec, store.encode_record(rec), i + 1, origin) for i, rec in enumerate(records)
    ]


def _columns() -> list[str]:
    return [*ESSAY_GRADE.columns, "seq", "origin", "wire", "hash"]


# 1. Push: a district node pushes N essay grades to the hub on PostgreSQL over HTTP.


async def push(cfg: Config) -> list[Result]:
    n = cfg.push_rows
    tree = env.build_tree(2, 10, 0)
    hub = await env.Hub.create(cfg.dbs, tree, cfg.tmp)
    district = tree.districts[0]
    bases = tree.bases_of(district)
    await hub.enrol([district])
    await hub.start(workers=1, in_process=cfg.quick)
    node = await env.node_database(cfg.template, cfg.tmp / "push-district.sqlite3", district.id, hub)
    try:
        await (await _child(node)).round()  # the tree arrives
        records = env.grades([b.id for b in bases], n)
        async with node.write() as conn:
            for base in bases:  # as received from each base unit's node
                mine = [r for r in records if r.owner == base.id]
                await store.apply(conn, ESSAY_GRADE, mine, origin=base.id)
        times = []
        for _ in range(cfg.repeat):
            async with hub.db.write() as conn:
                await conn.execute(text("TRUNCATE essay_grades"))
                await conn.execute(text("UPDATE child_nodes SET acked_push = 0"))
            async with node.write() as conn:
                await conn.execute(update(Upstream).values(push_cursor=0))
            child = await _child(node)
            t = time.perf_counter()
            report = await child.round()
            times.append(time.perf_counter() - t)
            assert report.pushed == n, report
            assert report.stored_at_parent == n, report
            cfg.log(f"  push {n} rows: {times[-1]:.2f} s ({n / times[-1]:,.0f} rows/s)")
        # Baseline: asyncpg COPY of the same rows into the same table of the same database.
        rows = _stored_rows(records, district.id)
        base_times = []
        raw = await asyncpg.connect(env.dsn(hub.database))
        try:
            for _ in range(cfg.repeat):
                await raw.execute("TRUNCATE essay_grades")
                t = time.perf_counter()
                await raw.copy_records_to_table("essay_grades", records=rows, columns=_columns())
                base_times.append(time.perf_counter() - t)
            await raw.execute("TRUNCATE essay_grades")
        finally:
            await raw.close()
    finally:
        await node.dispose()
        await hub.close()
    rate = n / env.median(times)
    base_rate = n / env.median(base_times)
    return [
        Result(
            f"push {n:,} essay grades, district node → hub (PostgreSQL), HTTP",
            f"{rate:,.0f} rec/s",
            f"{base_rate:,.0f} rows/s (asyncpg COPY)",
            f"{rate / base_rate:.2f}×",
            "≥ 0.25× COPY, floor 50,000 rec/s",
            rate >= 50_000 and rate / base_rate >= 0.25,
            f"round = push + the pull after it; {env.spread(times)}",
            {"rate": rate, "baseline": base_rate, "times": times, "base_times": base_times},
        )
    ]


# 2. Bootstrap: a new base node pulls N records into SQLite.


async def bootstrap(cfg: Config) -> list[Result]:
    n = cfg.bootstrap_rows
    tree = env.build_tree(2, 10, 10)
    hub = await env.Hub.create(cfg.dbs, tree, cfg.tmp)
    base = tree.bases[0]
    records = env.grades([c.id for c in tree.cells], n)
    async with hub.db.write() as conn:
        for cell in tree.cells:  # as pushed by each cell's node
            await store.apply(conn, ESSAY_GRADE, [r for r in records if r.owner == cell.id], origin=cell.id)
    # A hub holding these grades has had them analysed by autovacuum; loaded a moment ago, its planner would still
    # take the table for empty and sort each pull's whole remaining range (200 ms a batch instead of 11 ms).
    async with hub.db.write() as conn:
        await conn.execute(text("ANALYZE essay_grades"))
    await hub.enrol([base])
    await hub.start(workers=1, in_process=cfg.quick)
    times = []
    try:
        for i in range(cfg.repeat):
            node = await env.node_database(cfg.template, cfg.tmp / f"bootstrap-{i}.sqlite3", base.id, hub)
            try:
                child = await _child(node)
                t = time.perf_counter()
                report = await child.round()
                times.append(time.perf_counter() - t)
                assert report.applied >= n, report
                cfg.log(f"  bootstrap {n} rows: {times[-1]:.2f} s ({n / times[-1]:,.0f} rows/s)")
            finally:
                await node.dispose()
    finally:
        await hub.close()
    # Baseline: sqlite3 executemany of the same rows into the same table of a fresh node file, one transaction.
    cols = _columns()
    rows = _sqlite_rows(_stored_rows(records, tree.root.id), cols)
    quoted = ", ".join(f'"{c}"' for c in cols)
    sql = f"INSERT INTO essay_grades ({quoted}) VALUES ({', '.join('?' for _ in cols)})"
    base_times = []
    for i in range(cfg.repeat):
        path = cfg.template.copy(cfg.tmp / f"bootstrap-base-{i}.sqlite3")
        con = sqlite3.connect(path, isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        t = time.perf_counter()
        con.execute("BEGIN")
        con.executemany(sql, rows)
        con.execute("COMMIT")
        base_times.append(time.perf_counter() - t)
        con.close()
    rate = n / env.median(times)
    base_rate = n / env.median(base_times)
    return [
        Result(
            f"bootstrap: new base node pulls {n:,} records into SQLite, HTTP",
            f"{rate:,.0f} rec/s",
            f"{base_rate:,.0f} rows/s (sqlite3 executemany)",
            f"{rate / base_rate:.2f}×",
            "≥ 0.25× executemany, floor 50,000 rec/s",
            rate >= 50_000 and rate / base_rate >= 0.25,
            env.spread(times),
            {"rate": rate, "baseline": base_rate, "times": times, "base_times": base_times},
        )
    ]


def _sqlite_rows(rows: list[tuple[Any, ...]], cols: list[str]) -> list[tuple[Any, ...]]:
    """Values as SQLAlchemy's column types store them in SQLite (UUIDs as hex text, dates as ISO text...)."""
    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect()
    table = ESSAY_GRADE.table
    procs = [table.c[c].type.bind_processor(dialect) for c in cols]
    return [tuple(p(v) if p and v is not None else v for p, v in zip(procs, row, strict=True)) for row in rows]


# 3. No-op round: a node with nothing to sync.


class QueryCounter:
    """Counts statements per database kind: SQLAlchemy's `before_cursor_execute` on every engine, and asyncpg's
    query logger for what the hub runs on asyncpg directly (`shared.db.engine.fetch`), which SQLAlchemy never sees."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.statements: list[str] = []
        self.active = False

    def _count(self, kind: str, statement: str) -> None:
        if self.active:
            self.counts[kind] = self.counts.get(kind, 0) + 1
            self.statements.append(f"{kind}: {' '.join(statement.split())[:100]}")

    def __call__(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if not (many and conn.dialect.name == "postgresql"):  # asyncpg logs its executemany itself
            self._count(conn.dialect.name, statement)

    def _checkout(self, dbapi_conn: Any, *args: Any) -> None:
        raw = getattr(dbapi_conn, "_connection", None)
        if isinstance(raw, asyncpg.Connection):
            raw.add_query_logger(self._logged)  # a set: adding it again is harmless

    def _logged(self, record: Any) -> None:
        self._count("postgresql", record.query)

    def __enter__(self) -> QueryCounter:
        self.active = True
        event.listen(Engine, "before_cursor_execute", self)
        event.listen(Pool, "checkout", self._checkout)
        return self

    def __exit__(self, *exc: object) -> None:
        self.active = False
        event.remove(Engine, "before_cursor_execute", self)
        event.remove(Pool, "checkout", self._checkout)


async def noop(cfg: Config) -> list[Result]:
    tree = env.build_tree(2, 10, 0)
    hub = await env.Hub.create(cfg.dbs, tree, cfg.tmp)
    base = tree.bases[0]
    await hub.enrol([base])
    async with hub.db.write() as conn:  # some history in the hub's feed, none of it in this node's scope
        await store.apply(conn, ESSAY_GRADE, env.grades([tree.bases[1].id], 1000), origin=tree.bases[1].id)
    await hub.start(workers=1, in_process=cfg.quick)
    node = await env.node_database(cfg.template, cfg.tmp / "noop.sqlite3", base.id, hub)
    lat: list[float] = []
    # As `node serve`'s loop runs rounds: one HTTP client kept between them (its connection reused while the hub
    # keeps it alive, which it does for 5 s: back-to-back rounds reuse it, rounds minutes apart connect anew).
    clients = Clients()
    fresh: list[float] = []
    try:
        await (await _child(node, clients)).round()
        for _ in range(3 if cfg.quick else 20):  # warm: caches, prepared statements, pools
            await (await _child(node, clients)).round()
        for _ in range(cfg.noop_rounds):
            child = await _child(node, clients)
            t = time.perf_counter()
            report = await child.round()
            lat.append(time.perf_counter() - t)
            assert report.pushed == report.pulled == 0
        for _ in range(cfg.noop_rounds // 3):  # as after an interval longer than the hub's keep-alive
            await clients.aclose()
            child = await _child(node, clients)
            t = time.perf_counter()
            await child.round()
            fresh.append(time.perf_counter() - t)
        await hub.stop()
        await clients.aclose()
        # Queries per round: the same round against the hub app served in this process, where they can be counted.
        settings = Settings(data_dir=cfg.tmp / "hub-inproc", database=DatabaseSettings(url=env.sa_url(hub.database)))
        port = env.free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(settings, role="hub"), host="127.0.0.1", port=port, log_level="error")
        )
        task = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
            await asyncio.sleep(0.01)
        inproc = f"http://127.0.0.1:{port}"
        async with node.write() as conn:
            await conn.execute(update(Upstream).values(url=inproc))
        rounds = 5 if cfg.quick else 50
        try:
            for _ in range(2):
                await (await _child(node, clients)).round()
            with QueryCounter() as counter:
                for _ in range(rounds):
                    await (await _child(node, clients)).round()
        finally:
            server.should_exit = True
            await task
    finally:
        await clients.aclose()
        await node.dispose()
        await hub.close()
    hub_q = counter.counts.get("postgresql", 0) / rounds
    node_q = counter.counts.get("sqlite", 0) / rounds
    p50, p99 = env.percentile(lat, 50) * 1000, env.percentile(lat, 99) * 1000
    f50, f99 = env.percentile(fresh, 50) * 1000, env.percentile(fresh, 99) * 1000
    shown = sorted({s for s in counter.statements if s.startswith("postgresql")})
    return [
        Result(
            f"no-op round ({cfg.noop_rounds} rounds, nothing to push or pull)",
            f"p50 {p50:.2f} ms, p99 {p99:.2f} ms",
            "",
            "",
            "≤ 3 ms",
            p50 <= 3 and p99 <= 3,
            f"mean {sum(lat) / len(lat) * 1000:.2f} ms; rounds back to back on the loop's kept connection",
            {"p50_ms": p50, "p99_ms": p99},
        ),
        Result(
            f"no-op round on a new connection ({len(fresh)} rounds)",
            f"p50 {f50:.2f} ms, p99 {f99:.2f} ms",
            "",
            "",
            "",
            None,
            "a new HTTP client and TCP connection each round, as when rounds are further apart than the hub's "
            "5 s keep-alive (districts sync every few minutes); plain HTTP here, TLS would add its handshake",
            {"p50_ms": f50, "p99_ms": f99},
        ),
        Result(
            "no-op round: database queries",
            f"{hub_q:g} at the hub, {node_q:g} at the node",
            "",
            "",
            "1 at the hub",
            hub_q <= 1,
            "hub: " + "; ".join(shown),
            {"hub": hub_q, "node": node_q},
        ),
    ]


# 4. Burst: many simulated nodes, each a small push and a pull, against the hub on PostgreSQL.


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str, body: bytes, credential: str
) -> int:
    """One HTTP/1.1 POST on a kept-alive connection; returns the status. A minimal client: the load generator
    shares the 2 cores with the hub, so it must cost as little as possible."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: hub\r\ncontent-type: {MEDIA_TYPE}\r\ncontent-encoding: zstd\r\n"
        f"{PROTOCOL_HEADER}: {PROTOCOL}\r\nauthorization: Bearer {credential}\r\ncontent-length: {len(body)}\r\n\r\n"
    )
    writer.write(head.encode() + body)
    status_line = await reader.readline()
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return int(status_line.split()[1])


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
    note = (
        f"a one-row commit here takes p50 {commit_ms[0]:.1f} ms, p90 {commit_ms[1]:.1f} ms (pushes serialise on "
        "the feed counter through their commit)"
    )
    try:
        runs = [cfg.burst_window] if cfg.quick else [cfg.burst_window, 0.0]
        for window in runs:
            run = await _burst_run(cfg, hub, bodies, port, window)
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
            results.append(await _sustainable(cfg, hub, bodies, port, capacity=results[-1].raw["rate"]))
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
    cfg: Config, hub: env.Hub, bodies: list[tuple[str, bytes, bytes]], port: int, window: float
) -> _Run:
    """Every node once, arriving evenly over `window` seconds (0: all at once); latency from each node's start."""
    n = len(bodies)
    lat: list[float] = []
    errors: list[str] = []

    async def one(i: int, credential: str, push_body: bytes, pull_body: bytes, t0: float, gap: float) -> None:
        start = t0 + i * gap
        await asyncio.sleep(max(0.0, start - time.perf_counter()))
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                s1 = await _request(reader, writer, "/sync/v1/push", push_body, credential)
                s2 = await _request(reader, writer, "/sync/v1/pull", pull_body, credential)
            finally:
                writer.close()
            if s1 != 200 or s2 != 200:
                errors.append(f"HTTP {s1}/{s2}")
        except Exception as exc:
            errors.append(type(exc).__name__)
        # From the moment the node meant to start: a late start is the hub's delay too.
        lat.append(time.perf_counter() - start)

    async with hub.db.write() as conn:  # every run starts from the same state
        await conn.execute(text("TRUNCATE essay_grades"))
        await conn.execute(text("UPDATE child_nodes SET acked_push = 0"))
    # A node syncs every few minutes, so the hub never holds its credential or scope token from its last round:
    # let the caches of the run before expire, or this run would skip the lookups every real round makes.
    await asyncio.sleep(0 if cfg.quick else SETTINGS.cache_seconds + 0.5)
    t0 = time.perf_counter() + 0.2
    gap = window / n
    await asyncio.gather(*(one(i, c, pb, lb, t0, gap) for i, (c, pb, lb) in enumerate(bodies)))
    total = time.perf_counter() - t0
    async with hub.db.read() as conn:
        stored = (await conn.execute(text("SELECT count(*) FROM essay_grades"))).scalar_one()
    p50, p99 = env.percentile(lat, 50), env.percentile(lat, 99)
    err = f"{len(errors)} errors" + (f" ({', '.join(sorted(set(errors))[:3])})" if errors else "")
    how = f"arriving evenly over {window:g} s ({n / window:,.0f}/s)" if window else "all at once"
    cfg.log(f"  burst {n} nodes {how}: {n / total:,.0f} rounds/s, p50 {p50:.3f} s, p99 {p99:.3f} s, {err}")
    return _Run(
        f"p50 {p50 * 1000:,.0f} ms, p99 {p99 * 1000:,.0f} ms, {n / total:,.0f} rounds/s, {err}",
        p99 < 1 and not errors and stored == 5 * n,
        stored,
        {"p50": p50, "p99": p99, "rate": n / total, "errors": len(errors), "window": window},
    )


async def _sustainable(
    cfg: Config, hub: env.Hub, bodies: list[tuple[str, bytes, bytes]], port: int, capacity: float
) -> Result:
    """The largest arrival rate (rounds/s) the hub serves with p99 < 1 s and no errors: all nodes arriving evenly
    at rates stepping down from 90 % of the all-at-once throughput, until one is met."""
    n = len(bodies)
    tried: list[str] = []
    rate = 0.9 * capacity
    met = 0.0
    for _ in range(5):
        run = await _burst_run(cfg, hub, bodies, port, n / rate)
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


# 5. Consolidation.


CONSOLIDATION_SCALE = 0.38
"""Sample-province scale with about 3,000 units (the issue's size)."""
CONSOLIDATION_MEMBERS = 129_200
"""Members giving about 120,000 graded attempts (one essay each, rewrites of the weak ones)."""


async def consolidation(cfg: Config) -> list[Result]:
    """The province's consolidated figures (D20, D26) on PostgreSQL: the three GROUP BY passes and the appendix."""
    scale, members = (0.02, 2_000) if cfg.quick else (CONSOLIDATION_SCALE, CONSOLIDATION_MEMBERS)
    units = sample_units(seed=2025, scale=scale)
    root = units[0]
    doc = DocumentRecord(
        id=new_id(),
        owner=root.id,
        audience=root.id,
        rev=1,
        deleted=False,
        number="15-NQ/TU",
        title="Nghị quyết mẫu",
        signed_on=dt.date(2021, 12, 20),
        issuer="Tỉnh ủy",
        lead_agency="Ban Tuyên giáo và Dân vận Tỉnh ủy",
        applies_to=[],
        level="PROVINCE",
    )
    sample = sample_round(units, doc.id, members=members, graded_from=dt.date(2024, 3, 1), seed=11)
    follow = sample_follow_up(units, doc.id, issued_from=dt.date(2022, 1, 1), seed=12)
    db = Database(env.sa_url(await cfg.dbs.fresh()))
    try:
        async with db.write() as conn:
            await store_units(conn, units)
            await store_sample(conn, doc, sample, follow)
        async with db.write() as conn:
            await conn.execute(text("ANALYZE"))  # what autovacuum does after a bulk load
        async with db.read() as conn:
            top = await unit_info(conn, root.id)
        assert top is not None
        today = dt.date(2025, 1, 10)
        times = []
        for _ in range(cfg.repeat + 1):  # the first run warms the caches and is not counted
            t = time.perf_counter()
            async with db.read() as conn:
                result = await consolidate(conn, top, doc.id, "preliminary", today=today)
            times.append(time.perf_counter() - t)
            assert result.reconciles
        times = times[1:]
        cfg.log(f"  consolidation: {env.median(times) * 1000:,.0f} ms")
    finally:
        await db.dispose()
    took = env.median(times)
    return [
        Result(
            f"consolidation: provincial report over {len(sample.essays):,} graded essays in {len(units):,} units "
            "(PostgreSQL)",
            f"{took * 1000:,.0f} ms",
            target="< 1 s",
            met=took < 1.0,
            note=f"whole province, {len(result.children)} districts, {len(result.bases):,} units in the appendix, "
            f"{len(follow.programmes):,} programmes, {len(follow.responses):,} survey responses, late items; "
            f"{env.spread(times)}",
            raw={"seconds": took, "times": times, "essays": len(sample.essays), "units": len(units)},
        )
    ]


# 6. Node footprint.


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def footprint(cfg: Config) -> list[Result]:
    tree = env.build_tree(2, 10, 0)
    base = tree.bases[0]
    out: list[Result] = []
    if cfg.quick:
        # Starting a process is seconds of imports on a busy machine: the smoke run leaves it to full runs.
        out.append(Result("node footprint: `nqsync node serve` start-up and idle RSS", "not run in --quick"))
    else:
        out.extend(await _serve_footprint(cfg, tree))
    out.extend(_wire_bytes(base.id))
    return out


async def _serve_footprint(cfg: Config, tree: env.Tree) -> list[Result]:
    base = tree.bases[0]
    hub = await env.Hub.create(cfg.dbs, tree, cfg.tmp)
    await hub.enrol([base])
    await hub.start(workers=1)
    starts, rss = [], []
    try:
        for i in range(cfg.repeat):
            data = cfg.tmp / f"node-serve-{i}"
            node = await env.node_database(cfg.template, data / "nqsync.sqlite3", base.id, hub)
            await node.dispose()
            port = env.free_port()
            t = time.perf_counter()
            proc = subprocess.Popen(  # noqa: ASYNC220 - timed from here; nothing else runs meanwhile
                [env.nqsync_exe(), "node", "serve", "--data", str(data), "--port", str(port), "--interval", "3600"],
                stdout=subprocess.DEVNULL,
                env={k: v for k, v in os.environ.items() if not k.startswith("NQSYNC_")},
            )
            try:
                env.wait_http(port, proc)
                starts.append(time.perf_counter() - t)
                await asyncio.sleep(3.0)  # its first sync round done, then idle
                rss.append(_rss_kib(proc.pid) / 1024)
            finally:
                proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=10)
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    finally:
        await hub.close()
    return [
        Result(
            "node footprint: `nqsync node serve` start-up (to /health answering)",
            f"{env.median(starts):.2f} s",
            note=env.spread(starts),
            raw={"start_s": starts},
        ),
        Result(
            "node footprint: idle RSS of `nqsync node serve`",
            f"{env.median(rss):.0f} MiB",
            note=env.spread(rss),
            raw={"rss_mib": rss},
        ),
    ]


def _wire_bytes(owner: uuid.UUID) -> list[Result]:
    """Bytes on the wire per essay-grade record: the record itself, and its share of a push body."""
    records = env.grades([owner], 5000)
    wires = [store.encode_record(r) for r in records]
    raw = sum(map(len, wires)) / len(wires)

    def body(ws: list[bytes], compress: bool) -> int:
        req = PushRequest(protocol=PROTOCOL, after=0, upto=len(ws), batches=[Batch("essay_grade", raw_array(ws))])
        return len(pack(req, compress=compress))

    batch_plain, batch_z = body(wires, False) / len(wires), body(wires, True) / len(wires)
    one_plain, one_z = body(wires[:1], False), body(wires[:1], True)
    return [
        Result(
            "bytes on the wire per essay-grade record",
            f"{raw:.0f} B record; in a 5,000-record push {batch_plain:.0f} B plain, {batch_z:.0f} B zstd",
            note=f"a 1-record push body: {one_plain} B plain, {one_z} B zstd",
            raw={"record": raw, "batch_plain": batch_plain, "batch_zstd": batch_z},
        ),
    ]


CASES = {
    "push": push,
    "bootstrap": bootstrap,
    "noop": noop,
    "burst": burst,
    "consolidation": consolidation,
    "footprint": footprint,
}
