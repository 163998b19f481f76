"""Study sessions (D8, D3) and propaganda (D9) under `/api/v1`: the generic record routes plus their figures."""

import uuid
from datetime import date

from litestar import Router, get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from shared.api.resource import Api, Viewed, record_routes
from shared.study import service
from shared.study.schemas import ChannelTotal, Coverage


@get("/coverage")
async def coverage(api: NamedDependency[Api], document: FromQuery[uuid.UUID], unit: Viewed = None) -> Coverage:
    """Which units of a subtree have held a session on a document (D8); armed-forces units apart (D3)."""
    return await api.viewing(unit, lambda conn, viewer: service.coverage(conn, viewer, document))


@get("/summary")
async def summary(
    api: NamedDependency[Api],
    unit: Viewed = None,
    from_date: FromQuery[date | None] = None,
    to_date: FromQuery[date | None] = None,
) -> list[ChannelTotal]:
    """Totals by channel over a unit's subtree, for periods overlapping [from_date, to_date] (D9, D26)."""
    return await api.viewing(unit, lambda conn, viewer: service.channel_totals(conn, viewer, from_date, to_date))


ROUTES: tuple[Router, ...] = (
    record_routes("/study-sessions", service.SESSIONS, tag="study", extra=[coverage]),
    record_routes("/propaganda", service.PROPAGANDA_ITEMS, tag="propaganda", extra=[summary]),
)
