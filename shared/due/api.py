"""What is due (D27) under `/api/v1`."""

from __future__ import annotations

from datetime import date

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from shared.api.resource import Api, Viewed
from shared.core.errors import invalid
from shared.core.scope import MAX_PAGE
from shared.due.schemas import WhatIsDue
from shared.due.service import DEFAULT_HORIZON_DAYS, collect_due


class DueController(Controller):
    path = "/due"
    tags = ["what is due"]  # noqa: RUF012

    @get("/")
    async def what_is_due(
        self,
        api: NamedDependency[Api],
        unit: Viewed = None,
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
        return await api.viewing(
            unit,
            lambda conn, viewer: collect_due(
                conn, viewer, today or date.today(), horizon_days=horizon_days, limit=limit
            ),
        )


ROUTES = (DueController,)
