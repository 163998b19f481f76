"""The no-op round (issue 7, figure 3): its latency on a kept and on a new connection, and its database queries."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import uvicorn
from sqlalchemy import event, update
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

from bench import env
from bench.common import Config, Result, sync_child
from shared.app import create_app
from shared.essays.records import ESSAY_GRADE
from shared.settings import DatabaseSettings, Settings
from shared.sync import store
from shared.sync.client import Clients
from shared.sync.tables import Upstream


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
        await (await sync_child(node, clients)).round()
        for _ in range(3 if cfg.quick else 20):  # warm: caches, prepared statements, pools
            await (await sync_child(node, clients)).round()
        for _ in range(cfg.noop_rounds):
            child = await sync_child(node, clients)
            t = time.perf_counter()
            report = await child.round()
            lat.append(time.perf_counter() - t)
            assert report.pushed == report.pulled == 0
        for _ in range(cfg.noop_rounds // 3):  # as after an interval longer than the hub's keep-alive
            await clients.aclose()
            child = await sync_child(node, clients)
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
                await (await sync_child(node, clients)).round()
            with QueryCounter() as counter:
                for _ in range(rounds):
                    await (await sync_child(node, clients)).round()
        finally:
            server.should_exit = True
            await task
    finally:
        await clients.aclose()
        await node.dispose()
        await hub.close()
    hub_q = counter.counts.get("postgresql", 0) / rounds
    node_q = counter.counts.get("sqlite", 0) / rounds
    writes = ("sqlite: INSERT", "sqlite: UPDATE", "sqlite: DELETE", "sqlite: BEGIN")
    node_w = sum(s.startswith(writes) for s in counter.statements) / rounds
    p50, p99 = env.percentile(lat, 50) * 1000, env.percentile(lat, 99) * 1000
    f50, f99 = env.percentile(fresh, 50) * 1000, env.percentile(fresh, 99) * 1000
    shown = sorted({s for s in counter.statements if s.startswith("postgresql")})
    return [
        Result(
            f"no-op round ({cfg.noop_rounds} rounds, nothing to push or pull)",
            f"p50 {p50:.2f} ms, p99 {p99:.2f} ms",
            "",
            "",
            "≤ 2 ms p50",
            p50 <= 2,
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
            f"{hub_q:g} at the hub, {node_q:g} at the node ({node_w:g} writing)",
            "",
            "",
            "1 at the hub, no write at the node",
            hub_q <= 1 and node_w == 0,
            "hub: " + "; ".join(shown),
            {"hub": hub_q, "node": node_q, "node_writes": node_w},
        ),
    ]
