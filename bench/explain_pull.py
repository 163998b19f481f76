"""EXPLAIN ANALYZE of one base child's pull, without and with the scope's units (issue 14, item 1).

`uv run python -m bench.explain_pull`: 50,000 grades owned by 1,000 base units, ANALYZEd; the plan of the pull's scan
as it was (seq window joined to the units for every row) and as it is (the (owner, seq), (audience, seq) indexes).
"""

from __future__ import annotations

import asyncio

from bench import env
from shared.catalogue import build_registry
from shared.db.engine import Database
from shared.db.migrate import upgrade
from shared.essays.records import ESSAY_GRADE
from shared.settings import SyncSettings
from shared.sync import store
from shared.sync.parent import Child, Parent
from shared.units.records import store_units

NAME = "nqsync_bench_explain"


async def main() -> None:
    """Build the feed, then print both plans."""
    await env.admin(f"DROP DATABASE IF EXISTS {NAME}")
    await env.admin(f"CREATE DATABASE {NAME}")
    db = Database(env.sa_url(NAME))
    try:
        await upgrade(db)
        tree = env.build_tree(20, 50, 0)
        async with db.write() as conn:
            await store_units(conn, tree.all)
        recs = env.grades([b.id for b in tree.bases], 50_000)
        for i in range(0, len(recs), 5000):
            async with db.write() as conn:
                await store.apply(conn, ESSAY_GRADE, recs[i : i + 5000], origin=None)
        async with db.write() as conn:
            await conn.exec_driver_sql("ANALYZE")
        base = tree.bases[7]
        async with db.read() as conn:
            path = (await conn.exec_driver_sql(f"SELECT path FROM units WHERE id = '{base.id}'")).scalar_one()
        child = Child(node_id=base.id, unit=base.id, path=path, depth=2)
        parent = Parent(db, build_registry(), SyncSettings())
        registry = parent._types([ESSAY_GRADE.name])
        for label in ("without the units (before issue 14)", "with the units (now)"):
            async with db.read() as conn:
                scope = (
                    parent.pull_scope(child)
                    if label.startswith("without")
                    else await parent.scoped_pull_scope(conn, child)
                )
                compiled = store._scan_statement(registry, scope, with_ids=False, pg=True).compile(dialect=conn.dialect)
                params = {"after": 0, "upto": 10**12, "limit": 5000, **store._scope_params(scope)}
                values = [params.get(n, compiled.params.get(n)) for n in compiled.positiontup or []]
                raw = (await conn.get_raw_connection()).driver_connection
                assert raw is not None
                print(f"== {label}")
                for row in await raw.fetch("EXPLAIN (ANALYZE, BUFFERS) " + str(compiled), *values):
                    print(row[0])
    finally:
        await db.dispose()
        await env.admin(f"DROP DATABASE IF EXISTS {NAME}")


if __name__ == "__main__":
    asyncio.run(main())
