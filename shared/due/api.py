"""What is due (D27) under `/api/v1`."""

from __future__ import annotations

import uuid
from datetime import date

from litestar import Controller, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromQuery

from shared.core.errors import invalid
from shared.core.scope import MAX_PAGE, Caller, unit_in_scope
from shared.db.engine import Database
from shared.due.schemas import WhatIsDue
from shared.due.service import DEFAULT_HORIZON_DAYS, collect_due


class DueController(Controller):
    path = "/due"
    tags = ["what is due"]  # noqa: RUF012

    @get("/")
    async def what_is_due(
        self,
        state: State,
        caller: NamedDependency[Caller],
        unit: FromQuery[uuid.UUID | None] = None,
        today: FromQuery[date | None] = None,
        horizon_days: FromQuery[int] = DEFAULT_HORIZON_DAYS,
        limit: FromQuery[int] = 500,
    ) -> WhatIsDue:
        """Every open deadline in a unit's subtree falling before today + `horizon_days` (late ones included):
        plans to issue (D20), review reports (D25a), reports to send after approval (D25), returned reports to
        correct (D25b), programme progress (D18), essay rewrites (D13); with who must act (D27)."""
        if not 0 <= horizon_days <= 3660:
            raise invalid("horizon_days", "D27", "Số ngày phải từ 0 đến 3660.", "Must be 0 to 3660 days.")
        if not 1 <= limit <= MAX_PAGE:
            raise invalid("limit", "paging", f"Số dòng phải từ 1 đến {MAX_PAGE}.", f"limit: 1 to {MAX_PAGE}.")
        db: Database = state.db
        async with db.read() as conn:
            viewer = await unit_in_scope(conn, caller, unit)
            return await collect_due(conn, viewer, today or date.today(), horizon_days=horizon_days, limit=limit)


ROUTES = (DueController,)
