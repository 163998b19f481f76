"""Which index each query on `essay_grades` uses, on PostgreSQL (the hub) and SQLite (a node) (issue 14, item 3).

`uv run python -m bench.explain_indexes [--grades 120000]`: a province of 42 districts × 70 base units, its grades
stored and ANALYZEd; every query the engine and the essay pages run on the table is run once for real while its
statements are captured, then each captured statement is EXPLAINed and the indexes in its plan are listed. The
pull's scan is explained twice on PostgreSQL: planned for its values and as the generic plan a prepared statement
falls back to. The table "index → queries" in docs/benchmarks.md is this script's output.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from bench import env
from shared.catalogue import build_registry
from shared.core.scope import Caller, unit_info
from shared.db.engine import Database
from shared.db.migrate import upgrade
from shared.due.service import _rewrite_items
from shared.essays.figures import subtree_essays
from shared.essays.records import ESSAY_GRADE, EssayGradeRecord
from shared.essays.service import _attempts, list_essays, list_open_rewrites
from shared.settings import SyncSettings, sqlite_url
from shared.sync import store
from shared.sync.parent import Child, Parent
from shared.sync.scopes import Scope, digest, purge_outside, versions_in, versions_of
from shared.sync.tombstones import collect_in
from shared.units.records import store_units

NAME = "nqsync_bench_indexes"
TABLE = "essay_grades"


class Captured:
    """Statements run on the engine while a query is called: (sql, driver parameters)."""

    def __init__(self, db: Database) -> None:
        self.found: list[tuple[str, Any]] = []
        self.on = False
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._note)
        if db.sqlite:
            event.listen(db._reader.sync_engine, "before_cursor_execute", self._note)

    def _note(self, _conn: Any, _cur: Any, statement: str, parameters: Any, _ctx: Any, _many: bool) -> None:
        if self.on and TABLE in statement and not statement.lstrip().upper().startswith(("BEGIN", "SET", "RESET")):
            self.found.append((statement, parameters))


def _pg_indexes(plan: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(plan, dict):
        if "Index Name" in plan:
            found.add(plan["Index Name"])
        for v in plan.values():
            found |= _pg_indexes(v)
    elif isinstance(plan, list):
        for v in plan:
            found |= _pg_indexes(v)
    return found


async def _explain(db: Database, sql: str, params: Any, *, generic: bool = False) -> tuple[set[str], bool]:
    """Indexes of `essay_grades` in the statement's plan, and whether the table is read whole."""
    async with db.read() as conn:
        if db.sqlite:
            rows = (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, tuple(params or ()))).all()
            details = [r[-1] for r in rows]
            used = {m for d in details for m in re.findall(r"INDEX (\w+)", d)}
            used |= {"pk (rowid/autoindex)" for d in details if "PRIMARY KEY" in d}
            whole = any(re.fullmatch(rf"SCAN {TABLE}( AS \w+)?", d) for d in details)
            return {u for u in used if TABLE in u or u.startswith("pk")}, whole
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        if generic:
            await raw.execute("SET plan_cache_mode = force_generic_plan")
        try:
            plan = (await raw.fetch("EXPLAIN (FORMAT JSON) " + sql, *(params or ())))[0][0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
        finally:
            await raw.execute("RESET plan_cache_mode")
        whole = f'"Relation Name": "{TABLE}"' in json.dumps(plan) and '"Seq Scan"' in json.dumps(plan)
        return {i for i in _pg_indexes(plan) if TABLE in i or i.startswith("pk_essay")}, whole


def _grades(owners: list[uuid.UUID], n: int) -> list[EssayGradeRecord]:
    """Realistic attempts: one member writes each document once, a tenth twice (D13)."""
    recs = env.grades(owners, n)
    out = []
    for i, r in enumerate(recs):
        if r.attempt == 2 and i:
            prev = out[-1]
            r = EssayGradeRecord(**{**{f: getattr(r, f) for f in r.__struct_fields__}, "member": prev.member})
            r = EssayGradeRecord(
                **{**{f: getattr(r, f) for f in r.__struct_fields__}, "document": prev.document, "owner": prev.owner}
            )
        out.append(r)
    return out


async def _load(db: Database, tree: env.Tree, owners: list[uuid.UUID], n: int) -> list[EssayGradeRecord]:
    await upgrade(db)
    async with db.write() as conn:
        await store_units(conn, tree.all)
    recs = _grades(owners, n)
    for i in range(0, len(recs), 5000):
        async with db.write() as conn:
            await store.apply(conn, ESSAY_GRADE, recs[i : i + 5000], origin=None)
    if not db.sqlite:
        async with db.write() as conn:
            await conn.exec_driver_sql("ANALYZE")
    return recs


async def _queries(db: Database, tree: env.Tree, recs: list[EssayGradeRecord], top: uuid.UUID) -> dict[str, Any]:
    """Each query of the table, by name, as a call to run (its statements are captured)."""
    parent = Parent(db, build_registry(), SyncSettings())
    essays = parent._types([ESSAY_GRADE.name])
    district = tree.districts[3]
    base = tree.bases_of(district)[5]
    sample = recs[len(recs) // 2]
    async with db.read() as conn:
        units = {u: await unit_info(conn, u) for u in (top, district.id, base.id)}
    paths = {u: info.path for u, info in units.items() if info is not None}
    child_b = Child(node_id=base.id, unit=base.id, path=paths[base.id], depth=2)
    child_d = Child(node_id=district.id, unit=district.id, path=paths[district.id], depth=1)
    viewer, below = units[top], units[district.id if top != district.id else base.id]
    assert viewer is not None
    assert below is not None
    caller = Caller(uuid.uuid4(), "bench", "admin", viewer)
    lower = Caller(uuid.uuid4(), "bench", "admin", below)
    day = date(2027, 12, 31)

    async def pull(child: Child) -> None:
        async with db.read() as conn:
            scope = await parent.scoped_pull_scope(conn, child)
            await store.scan_wires(conn, essays, scope, after=0, upto=10**12, limit=5000)

    async def push_scan() -> None:
        scope = Scope(unit=top, path=paths[top], down=False, up=True, exclude_own=False, exclude_origin=uuid.uuid4())
        async with db.read() as conn:
            await store.scan_wires(conn, essays, scope, after=len(recs) // 2, upto=10**12, limit=5000)

    async def run(fn: Callable[[Any], Awaitable[Any]], *, write: bool = False) -> None:
        if write:
            async with db.write() as conn:
                await fn(conn)
                await conn.rollback()
        else:
            async with db.read() as conn:
                await fn(conn)

    ids = [r.id for r in recs[:5000]]
    dscope = parent.digest_scope(child_d, 0)
    q: dict[str, Any] = {
        "pull scan, base child (scan_wires)": lambda: pull(child_b),
        "pull scan, district child": lambda: pull(child_d),
        "node push scan (seq > cursor, subtree)": push_scan,
        "push/pull apply: held versions by id": lambda: run(lambda c: store.held_versions(c, ESSAY_GRADE, ids)),
        "push apply: held versions, view bytes": lambda: run(
            lambda c: store.held_versions(c, ESSAY_GRADE, [i.bytes for i in ids])
        ),
        "digest (verify), district": lambda: run(lambda c: digest(c, ESSAY_GRADE, dscope, buckets=256)),
        "repair: versions in buckets": lambda: run(lambda c: versions_in(c, ESSAY_GRADE, dscope, [1, 2, 3], 256)),
        "repair: versions of ids": lambda: run(lambda c: versions_of(c, ESSAY_GRADE, dscope, ids[:200])),
        "purge outside scope (unit moved)": lambda: run(
            lambda c: purge_outside(c, ESSAY_GRADE, dscope, district.id), write=True
        ),
        "tombstone collection": lambda: run(
            lambda c: collect_in(c, essays, grace=timedelta(days=1), now=datetime.now(timezone.utc)),  # noqa: UP017
            write=True,
        ),
        "grading: a member's attempts (_attempts)": lambda: run(
            lambda c: _attempts(c, viewer, sample.member, sample.document)
        ),
        "API list by document (list_essays)": lambda: run(lambda c: list_essays(c, caller, document=sample.document)),
        "API list by member": lambda: run(lambda c: list_essays(c, caller, member=sample.member)),
        "open rewrites (list_open_rewrites)": lambda: run(
            lambda c: list_open_rewrites(c, caller, sample.document, None)
        ),
        "due list: rewrite items": lambda: run(lambda c: _rewrite_items(c, viewer, {})),
        "consolidation / summary: essay_figures": lambda: run(
            lambda c: subtree_essays(c, viewer, sample.document, day)
        ),
        "the same, one level down": lambda: run(lambda c: subtree_essays(c, below, sample.document, day)),
        "API list by document, one level down": lambda: run(lambda c: list_essays(c, lower, document=sample.document)),
        "open rewrites, one level down": lambda: run(lambda c: list_open_rewrites(c, lower, sample.document, None)),
        "due list, one level down": lambda: run(lambda c: _rewrite_items(c, below, {})),
    }
    return q


async def survey(db: Database, tree: env.Tree, recs: list[EssayGradeRecord], top: uuid.UUID) -> dict[str, Any]:
    """{query: [(indexes, whole-table read), ...]} for every captured statement of every query."""
    cap = Captured(db)
    out: dict[str, Any] = {}
    for name, call in (await _queries(db, tree, recs, top)).items():
        cap.found, cap.on = [], True
        await call()
        cap.on = False
        times = []
        for _ in range(3):
            start = time.perf_counter()
            await call()
            times.append(time.perf_counter() - start)
        plans = []
        for sql, params in cap.found:
            if sql.lstrip().upper().startswith(("INSERT", "UPDATE")):
                continue
            plans.append(await _explain(db, sql, params))
            if name.startswith("pull") and not db.sqlite:
                used, whole = await _explain(db, sql, params, generic=True)
                plans.append(({f"{u} (generic)" for u in used}, whole))
        out[name] = (plans, min(times))
    return out


def _print(engine: str, found: dict[str, Any]) -> None:
    print(f"== {engine}")
    by_index: dict[str, list[str]] = defaultdict(list)
    for name, (plans, took) in found.items():
        used = sorted({u for p in plans for u in p[0]})
        whole = any(p[1] for p in plans)
        print(f"  {name} ({took * 1000:.1f} ms): {', '.join(used) or '-'}{' + whole-table scan' if whole else ''}")
        for u in used:
            by_index[u.removesuffix(" (generic)")].append(name)
    print("  -- index → queries")
    for index, names in sorted(by_index.items()):
        print(f"  {index}: {'; '.join(dict.fromkeys(names))}")


async def main() -> None:
    """Build the province on both engines and print each query's indexes."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--grades", type=int, default=120_000)
    ap.add_argument("--node-grades", type=int, default=20_000)
    args = ap.parse_args()
    tree = env.build_tree(42, 70, 0)
    await env.admin(f"DROP DATABASE IF EXISTS {NAME}")
    await env.admin(f"CREATE DATABASE {NAME}")
    db = Database(env.sa_url(NAME))
    try:
        recs = await _load(db, tree, [b.id for b in tree.bases], args.grades)
        _print(f"PostgreSQL, hub, {args.grades:,} grades", await survey(db, tree, recs, tree.root.id))
    finally:
        await db.dispose()
        await env.admin(f"DROP DATABASE IF EXISTS {NAME}")
    with tempfile.TemporaryDirectory() as tmp:
        node = Database(sqlite_url(Path(tmp) / "node.sqlite3"))
        try:
            district = tree.districts[3]
            recs = await _load(node, tree, [b.id for b in tree.bases_of(district)], args.node_grades)
            async with node.write() as conn:
                await conn.execute(text("SELECT 1"))
            _print(f"SQLite, district node, {args.node_grades:,} grades", await survey(node, tree, recs, district.id))
        finally:
            await node.dispose()


if __name__ == "__main__":
    asyncio.run(main())
