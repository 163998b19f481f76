"""Background jobs (ARCHITECTURE.md, "Storage and jobs"): consolidation, report rendering, the daily review-calendar
refresh and deadline reminders.

Plain `async def job(ctx, ...)` functions: arq runs them on a worker (`nqsync server worker`) when
`NQSYNC_REDIS_URL` is set; otherwise `Jobs.run` calls the very same functions in-process. `ctx` holds the database
and the settings, made in `startup` either way. Arguments and results are plain JSON-able values.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from shared.calendar.service import document_milestones
from shared.catalogue import build_registry
from shared.consolidation.export_docx import Letterhead, write_docx
from shared.consolidation.export_xlsx import write_xlsx
from shared.consolidation.service import consolidate
from shared.core.scope import UnitInfo, unit_info
from shared.db.engine import Database
from shared.documents.records import DOCUMENT
from shared.domain.calendar import MilestoneStatus
from shared.domain.formatting import VIETNAM_TIME, format_date
from shared.settings import Settings
from shared.sync import store
from shared.sync.parent import Parent
from shared.sync.tables import UnitRow

log = logging.getLogger("nqsync.jobs")

REPORTS_DIR = "bao-cao"
CALENDAR_FILE = "lich-so-ket-tong-ket.json"
REMINDERS_FILE = "nhac-viec.json"
REMIND_DAYS = 30
"""A plan deadline or a review due within this many days is reminded of (D20, D27)."""


def today_vn() -> date:
    return datetime.now(VIETNAM_TIME).date()


async def startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx.get("settings") or Settings.load()
    ctx["settings"] = settings
    ctx["db"] = Database(settings.database.url)


async def shutdown(ctx: dict[str, Any]) -> None:
    await ctx["db"].dispose()


async def _top(db: Database, unit_code: str | None) -> UnitInfo:
    async with db.read() as conn:
        stmt = select(UnitRow.id).where(UnitRow.valid_to.is_(None), UnitRow.deleted.is_(False))
        stmt = stmt.where(UnitRow.code == unit_code) if unit_code else stmt.where(UnitRow.depth == 0)
        unit_id = (await conn.execute(stmt)).scalars().first()
        unit = None if unit_id is None else await unit_info(conn, unit_id)
    if unit is None:
        raise LookupError(f"no unit {unit_code or '(root)'}")
    return unit


def _day(value: str | None) -> date:
    return date.fromisoformat(value) if value else today_vn()


async def consolidate_review(
    ctx: dict[str, Any], document: str, kind: str, *, unit: str | None = None, today: str | None = None
) -> dict[str, Any]:
    """D26: a level's consolidated figures for one review; returns the headline figures and whether they reconcile."""
    db: Database = ctx["db"]
    top = await _top(db, unit)
    async with db.read() as conn:
        c = await consolidate(conn, top, uuid.UUID(document), kind, today=_day(today), with_bases=False)
    e = c.figures.essays
    return {
        "unit": c.top.code,
        "document": c.document_number,
        "kind": c.kind,
        "cut_off": c.cut_off.isoformat(),
        "reconciles": c.reconciles,
        "obliged": e.obliged.members,
        "wrote": e.wrote,
        "bands": {b: e.band(b) for b in ("Tốt", "Khá", "Trung bình", "Yếu")},
        "rewrites_open": e.rewrites_open,
        "reports_received": c.figures.reports.received,
        "reports_expected": c.figures.reports.expected,
        "programmes": c.figures.programmes.programmes,
        "targets_met": c.figures.programmes.met,
        "survey_responses": c.figures.surveys.responses,
        "children": len(c.children),
    }


async def render_report(
    ctx: dict[str, Any],
    document: str,
    kind: str,
    *,
    unit: str | None = None,
    today: str | None = None,
    out_dir: str | None = None,
    place: str = "Mẫu",
    years: int | None = None,
) -> dict[str, str]:
    """Consolidate and write the .xlsx tables and the .docx report; returns the two paths."""
    db: Database = ctx["db"]
    settings: Settings = ctx["settings"]
    top = await _top(db, unit)
    async with db.read() as conn:
        c = await consolidate(conn, top, uuid.UUID(document), kind, today=_day(today))
    folder = Path(out_dir) if out_dir else settings.data_dir / REPORTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{c.top.code}-{c.document_number.replace('/', '-')}-{'so-ket' if c.kind == 'preliminary' else 'tong-ket'}"
    xlsx, docx = folder / f"{stem}.xlsx", folder / f"{stem}.docx"
    write_xlsx(c, xlsx)
    write_docx(c, docx, Letterhead(place=place, years=years))
    return {"xlsx": str(xlsx), "docx": str(docx)}


async def _calendar(db: Database, day: date) -> list[dict[str, Any]]:
    top = await _top(db, None)
    async with db.read() as conn:
        docs = await store_records(conn)
        milestones = await document_milestones(conn, top, docs, day)
    return [
        {
            "document": m.document_number,
            "kind": m.kind_vi,
            "due": format_date(m.due),
            "plan_deadline": format_date(m.plan_deadline),
            "status": m.status_vi,
            "days_to_due": (m.due - day).days,
            "days_to_plan": (m.plan_deadline - day).days,
        }
        for m in milestones
    ]


async def store_records(conn: Any) -> list[Any]:
    table = DOCUMENT.table
    rows = await conn.execute(select(*[table.c[n] for n in DOCUMENT.columns]).where(table.c.deleted.is_(False)))
    return [store.from_row(DOCUMENT, r) for r in rows]


async def refresh_calendar(ctx: dict[str, Any], *, today: str | None = None) -> int:
    """Daily (D16-D20): every document's milestones and statuses as of today, written for the office to read."""
    settings: Settings = ctx["settings"]
    entries = await _calendar(ctx["db"], _day(today))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / CALENDAR_FILE).write_text(json.dumps(entries, ensure_ascii=False, indent=1), "utf-8")
    return len(entries)


async def deadline_reminders(ctx: dict[str, Any], *, today: str | None = None) -> list[str]:
    """Daily (D20, D27): plans to issue and reviews falling due soon, and those already overdue."""
    settings: Settings = ctx["settings"]
    day = _day(today)
    reminders = []
    for m in await _calendar(ctx["db"], day):
        if m["status"] == MilestoneStatus.OVERDUE.value:
            reminders.append(f"Quá hạn: {m['kind']} {m['document']} đến hạn ngày {m['due']}.")
        elif m["status"] != MilestoneStatus.DONE.value and 0 <= m["days_to_plan"] <= REMIND_DAYS:
            reminders.append(
                f"Sắp đến hạn ban hành kế hoạch {m['kind'].lower()} {m['document']}: {m['plan_deadline']} (D20)."
            )
    for text in reminders:
        log.info(text)
    (settings.data_dir / REMINDERS_FILE).write_text(json.dumps(reminders, ensure_ascii=False, indent=1), "utf-8")
    return reminders


async def collect_tombstones(ctx: dict[str, Any]) -> dict[str, int]:
    """Daily: drop the tombstones every child node that should see them has acknowledged (ARCHITECTURE.md)."""
    settings: Settings = ctx["settings"]
    parent = Parent(ctx["db"], build_registry(), settings.sync)
    done = await parent.collect_tombstones()
    log.info("collected %d tombstones (horizon %d)", done.total, done.horizon)
    return done.dropped


FUNCTIONS = (consolidate_review, render_report, refresh_calendar, deadline_reminders, collect_tombstones)


def worker_settings(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `arq.Worker`: the jobs, the three daily crons (Vietnam time), startup and shutdown."""
    from arq import cron
    from arq.connections import RedisSettings

    assert settings.redis.url, "the worker needs NQSYNC_REDIS_URL"

    async def on_startup(ctx: dict[str, Any]) -> None:
        ctx["settings"] = settings
        await startup(ctx)

    return {
        "functions": list(FUNCTIONS),
        "cron_jobs": [
            cron(refresh_calendar, hour=1, minute=0, run_at_startup=False),
            cron(deadline_reminders, hour=7, minute=0, run_at_startup=False),
            cron(collect_tombstones, hour=2, minute=30, run_at_startup=False),
        ],
        "redis_settings": RedisSettings.from_dsn(settings.redis.url),
        "on_startup": on_startup,
        "on_shutdown": shutdown,
        "timezone": VIETNAM_TIME,
        "job_timeout": 1800,
        # On SIGTERM (systemd stop) running jobs get this long before they are cancelled and queued again; the
        # worker unit's TimeoutStopSec is above it.
        "job_completion_wait": 60,
    }


@dataclass
class Jobs:
    """Enqueue on arq when Redis is configured, else run the same function now, in this process."""

    settings: Settings

    async def run(self, name: str, *args: Any, **kwargs: Any) -> Any:
        function = {f.__name__: f for f in FUNCTIONS}[name]
        if self.settings.redis.url:
            from arq import create_pool
            from arq.connections import RedisSettings

            pool = await create_pool(RedisSettings.from_dsn(self.settings.redis.url))
            try:
                job = await pool.enqueue_job(name, *args, **kwargs)
                assert job is not None
                return await job.result(timeout=1800, poll_delay=0.2)
            finally:
                await pool.aclose()
        ctx: dict[str, Any] = {"settings": self.settings}
        await startup(ctx)
        try:
            return await function(ctx, *args, **kwargs)
        finally:
            await shutdown(ctx)
