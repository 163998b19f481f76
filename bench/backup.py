"""Backup and restore of a full-size synthetic province's hub on PostgreSQL (issue 13), by the operator's commands."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, insert, select

from bench import env
from bench.common import Config, Result
from bench.consolidation import CONSOLIDATION_MEMBERS, CONSOLIDATION_SCALE, sample_document
from shared.db.engine import Database
from shared.essays.records import ESSAY_GRADE
from shared.sample_activity import sample_follow_up, sample_round, store_sample
from shared.sample_province import sample_units
from shared.sync.tables import Identity
from shared.units.records import store_units

NQSYNC = str(Path(sys.executable).with_name("nqsync"))


def _timed(*args: str) -> float:
    t = time.perf_counter()
    done = subprocess.run([NQSYNC, *args], capture_output=True, text=True, timeout=3600)
    took = time.perf_counter() - t
    assert done.returncode == 0, f"nqsync {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return took


async def _grades(url: str) -> int:
    db = Database(url)
    try:
        async with db.read() as conn:
            return int((await conn.execute(select(func.count()).select_from(ESSAY_GRADE.table))).scalar_one())
    finally:
        await db.dispose()


async def backup(cfg: Config) -> list[Result]:
    """`nqsync server backup --to FILE`, then `nqsync server restore FILE` into an empty database: seconds and size."""
    scale = 0.02 if cfg.quick else 1.0
    members = 2_000 if cfg.quick else int(CONSOLIDATION_MEMBERS / CONSOLIDATION_SCALE)
    units = sample_units(seed=2025, scale=scale)
    doc = sample_document(units[0].id)
    sample = sample_round(units, doc.id, members=members, graded_from=dt.date(2024, 3, 1), seed=11)
    follow = sample_follow_up(units, doc.id, issued_from=dt.date(2022, 1, 1), seed=12)
    source = env.sa_url(await cfg.dbs.fresh())
    db = Database(source)
    try:
        async with db.write() as conn:
            await store_units(conn, units)
            await store_sample(conn, doc, sample, follow)
            now = dt.datetime.now(dt.UTC)
            await conn.execute(insert(Identity).values(id=1, role="hub", unit=None, created_at=now))
    finally:
        await db.dispose()
    data = cfg.tmp / "backup-hub"
    backups, restores, sizes = [], [], []
    for i in range(cfg.repeat):
        file = cfg.tmp / f"province-{i}.backup"
        backups.append(_timed("server", "backup", "--to", str(file), "--data", str(data), "--database-url", source))
        sizes.append(file.stat().st_size)
        target = env.sa_url(await cfg.dbs.fresh(empty=True))
        restores.append(_timed("server", "restore", str(file), "--data", str(data), "--database-url", target))
        assert await _grades(target) == len(sample.essays), "the restored hub holds every grade"
    cfg.log(f"  backup: {env.median(backups):.1f} s, restore: {env.median(restores):.1f} s")
    what = f"{len(units):,} units, {len(sample.essays):,} graded essays, {len(follow.programmes):,} programmes"
    mib = env.median(sizes) / 2**20
    return [
        Result(f"backup: `nqsync server backup` of the province's hub ({what}; PostgreSQL)",
               f"{env.median(backups):.1f} s", note=f"pg_dump custom format, {mib:,.1f} MiB; {env.spread(backups)}"),
        Result("restore: `nqsync server restore` of that backup into an empty database",
               f"{env.median(restores):.1f} s", note=f"pg_restore, every grade counted back; {env.spread(restores)}"),
    ]  # fmt: skip
