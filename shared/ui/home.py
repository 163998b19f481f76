"""Trang chủ / Việc cần làm: reviews coming due, late or needing a plan (D16-D20), open rewrites (D13), sync health."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromQuery

from shared.calendar.schemas import MilestoneOut
from shared.calendar.service import document_milestones
from shared.core.scope import Caller, UnitInfo
from shared.db.engine import Database
from shared.documents.service import visible_documents
from shared.due.schemas import WhatIsDue
from shared.due.service import collect_due
from shared.essays.service import list_open_rewrites
from shared.essays.ui import rewrite_rows
from shared.ui.sync import sync_health
from shared.ui.web import page_for, render

UPCOMING_DAYS = 365
"""Reviews not yet in their plan period are listed when due within this many days; later ones are only counted."""
REWRITES_SHOWN = 20


async def calendar_items(db: Database, viewer: UnitInfo, today: date) -> list[MilestoneOut]:
    """Every review milestone of the documents the unit holds, as the calendar API computes it (D16-D20)."""
    async with db.read() as conn:
        return await document_milestones(conn, viewer, await visible_documents(conn, viewer), today)


async def what_is_due(db: Database, viewer: UnitInfo, today: date) -> WhatIsDue:
    """D27: what is due, what is late and who answers for it, across every kind of work (the API's own list)."""
    async with db.read() as conn:
        return await collect_due(conn, viewer, today, limit=50)


@get("/")
async def home(
    request: Request[Any, Any, State],
    caller: NamedDependency[Caller],
    unit: FromQuery[uuid.UUID | None] = None,
) -> Response[Any]:
    page = await page_for(request, caller, unit)
    state = request.app.state
    today = date.today()
    items = await calendar_items(state.db, page.viewer, today)
    horizon = today + timedelta(days=UPCOMING_DAYS)
    overdue = [m for m in items if m.status == "overdue"]
    plan_due = [m for m in items if m.status == "plan_due"]
    upcoming = [m for m in items if m.status == "upcoming" and m.due <= horizon]
    later = sum(1 for m in items if m.status == "upcoming" and m.due > horizon)
    async with state.db.read() as conn:
        rewrites = await list_open_rewrites(conn, caller, None, page.viewer.id)
        shown = await rewrite_rows(conn, page.viewer, rewrites[:REWRITES_SHOWN])
    return render(
        "home.html",
        page,
        today=today,
        overdue=overdue,
        plan_due=plan_due,
        upcoming=upcoming,
        later=later,
        rewrites=shown,
        rewrites_total=len(rewrites),
        health=await sync_health(state.db, state.parent, caller),
        due=await what_is_due(state.db, page.viewer, today),
    )


PAGES = (home,)
