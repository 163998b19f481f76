"""The province's consolidation (issue 7, figure 5) on PostgreSQL at the issue's size."""

from __future__ import annotations

import datetime as dt
import time
import uuid

from sqlalchemy import text

from bench import env
from bench.common import Config, Result
from shared.consolidation.service import consolidate
from shared.core.scope import unit_info
from shared.db.engine import Database
from shared.documents.records import DocumentRecord
from shared.ids import new_id
from shared.sample_activity import sample_follow_up, sample_round, store_sample
from shared.sample_province import sample_units
from shared.units.records import store_units

CONSOLIDATION_SCALE = 0.38
"""Sample-province scale with about 3,000 units (the issue's size)."""
CONSOLIDATION_MEMBERS = 129_200
"""Members giving about 120,000 graded attempts (one essay each, rewrites of the weak ones)."""


def sample_document(owner: uuid.UUID) -> DocumentRecord:
    """The province's resolution the sample round studies."""
    return DocumentRecord(
        id=new_id(),
        owner=owner,
        audience=owner,
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


async def consolidation(cfg: Config) -> list[Result]:
    """The province's consolidated figures (D20, D26) on PostgreSQL: the three GROUP BY passes and the appendix."""
    scale, members = (0.02, 2_000) if cfg.quick else (CONSOLIDATION_SCALE, CONSOLIDATION_MEMBERS)
    units = sample_units(seed=2025, scale=scale)
    root = units[0]
    doc = sample_document(root.id)
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
