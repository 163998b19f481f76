"""Background jobs on a real arq worker over real Redis, and the same functions in-process without Redis."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from arq import Worker, create_pool
from arq.connections import RedisSettings

from server.jobs import CALENDAR_FILE, FUNCTIONS, Jobs, worker_settings
from shared.db.engine import Database
from shared.settings import DatabaseSettings, Settings
from shared.settings import RedisSettings as OurRedis
from tests.conftest import REDIS_URL
from tests.integration.consolidation_seed import seed_small


@pytest.fixture
async def redis_url() -> str:
    client = aioredis.from_url(REDIS_URL)
    await client.flushdb()
    await client.aclose()
    return REDIS_URL


async def test_d20_d26_jobs_run_on_a_real_arq_worker(make_database_url, tmp_path: Path, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    url = await make_database_url("postgresql")
    db = Database(url)
    _ids, doc = await seed_small(db)
    await db.dispose()
    settings = Settings(tmp_path, DatabaseSettings(url), redis=OurRedis(redis_url))
    pool = await create_pool(RedisSettings.from_dsn(redis_url))
    try:
        consolidated = await pool.enqueue_job("consolidate_review", str(doc.id), "preliminary", today="2025-01-10")
        rendered = await pool.enqueue_job(
            "render_report", str(doc.id), "preliminary", today="2025-01-10", out_dir=str(tmp_path / "out")
        )
        refreshed = await pool.enqueue_job("refresh_calendar", today="2025-01-10")
        reminded = await pool.enqueue_job("deadline_reminders", today="2025-01-10")
        collected = await pool.enqueue_job("collect_tombstones")
        assert None not in (consolidated, rendered, refreshed, reminded, collected)
        # Built inside the running loop; burst runs what is queued and returns.
        worker = Worker(**worker_settings(settings), burst=True, poll_delay=0, handle_signals=False)
        try:
            await worker.run_check()
        finally:
            with warnings.catch_warnings():  # arq 0.28 calls redis-py's deprecated close()
                warnings.simplefilter("ignore", DeprecationWarning)
                await worker.close()
        assert {c.name for c in worker_settings(settings)["cron_jobs"]} == {
            "cron:refresh_calendar", "cron:deadline_reminders", "cron:collect_tombstones",
        }  # fmt: skip
        figures = await consolidated.result(timeout=5)  # type: ignore[union-attr]
        assert figures["reconciles"] is True
        assert (figures["obliged"], figures["wrote"], figures["rewrites_open"]) == (6, 6, 2)
        paths = await rendered.result(timeout=5)  # type: ignore[union-attr]
        assert paths["xlsx"].endswith(".xlsx")
        assert paths["docx"].endswith(".docx")
        assert (tmp_path / "out" / Path(paths["docx"]).name).exists()
        assert await refreshed.result(timeout=5) == 2  # type: ignore[union-attr]
        reminders = await reminded.result(timeout=5)  # type: ignore[union-attr]
        assert any("Quá hạn: Sơ kết 15-NQ/TU" in r for r in reminders)
        assert await collected.result(timeout=5) == {}  # type: ignore[union-attr]  # nothing was deleted in the seed
        calendar = json.loads((tmp_path / CALENDAR_FILE).read_text("utf-8"))
        assert calendar[0]["due"] == "20/12/2024"
    finally:
        await pool.aclose()


async def test_d26_the_same_jobs_run_in_process_without_redis(make_database_url, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = await make_database_url("sqlite")
    db = Database(url)
    _ids, doc = await seed_small(db)
    await db.dispose()
    jobs = Jobs(Settings(tmp_path, DatabaseSettings(url)))
    figures = await jobs.run("consolidate_review", str(doc.id), "preliminary", today="2025-01-10")
    assert figures["reconciles"] is True
    assert figures["bands"] == {"Tốt": 1, "Khá": 2, "Trung bình": 1, "Yếu": 2}
    assert (figures["programmes"], figures["targets_met"], figures["survey_responses"]) == (3, 2, 4), "D14, D22"
    paths = await jobs.run("render_report", str(doc.id), "preliminary", today="2025-01-10")
    assert Path(paths["docx"]).parent == tmp_path / "bao-cao"
    assert len(FUNCTIONS) == 5
