"""Bulk transfer (issue 7, figures 1 and 2): a district pushing N grades to the hub, a new base pulling N records."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
from sqlalchemy import text, update

from bench import env
from bench.common import Config, Result, sync_child
from shared.essays.records import ESSAY_GRADE, EssayGradeRecord
from shared.sync import store
from shared.sync.tables import Upstream


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
        await (await sync_child(node)).round()  # the tree arrives
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
            child = await sync_child(node)
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
            "≥ 0.5× COPY, floor 50,000 rec/s",
            rate >= 50_000 and rate / base_rate >= 0.5,
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
    await hub.start(workers=1, in_process=cfg.quick)
    times = []
    try:
        for i in range(cfg.repeat):
            # A node of its own each time: a fresh file on a credential that pulled before looks like a node restored
            # from an old backup, and the hub rightly has it verify (0.55-0.75 s per 100,000 records) before pulling.
            await hub.enrol([base])
            node = await env.node_database(cfg.template, cfg.tmp / f"bootstrap-{i}.sqlite3", base.id, hub)
            try:
                child = await sync_child(node)
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
            "≥ 0.5× executemany, floor 50,000 rec/s",
            rate >= 50_000 and rate / base_rate >= 0.5,
            env.spread(times),
            {"rate": rate, "baseline": base_rate, "times": times, "base_times": base_times},
        )
    ]


def _sqlite_rows(rows: list[tuple[Any, ...]], cols: list[str]) -> list[tuple[Any, ...]]:
    """Values as the column types store them in SQLite (UUIDs as 16-byte blobs, dates as ISO text...)."""
    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect()
    table = ESSAY_GRADE.table
    procs = [table.c[c].type.bind_processor(dialect) for c in cols]
    return [tuple(p(v) if p and v is not None else v for p, v in zip(procs, row, strict=True)) for row in rows]
