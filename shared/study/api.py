"""Study sessions (D8, D3) and propaganda (D9) under `/api/v1`: the generic record routes plus their figures."""

import uuid
from datetime import date

from litestar import Router, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromQuery

from shared.api.resource import record_routes
from shared.core.scope import Caller, unit_in_scope
from shared.db.engine import Database
from shared.study import service
from shared.study.schemas import (
    ChannelTotal,
    Coverage,
    Propaganda,
    PropagandaCreate,
    PropagandaUpdate,
    StudySession,
    StudySessionCreate,
    StudySessionUpdate,
)


@get("/coverage")
async def coverage(
    state: State,
    caller: NamedDependency[Caller],
    document: FromQuery[uuid.UUID],
    unit: FromQuery[uuid.UUID | None] = None,
) -> Coverage:
    """Which units of a subtree have held a session on a document (D8); armed-forces units apart (D3)."""
    db: Database = state.db
    async with db.read() as conn:
        return await service.coverage(conn, await unit_in_scope(conn, caller, unit), document)


@get("/summary")
async def summary(
    state: State,
    caller: NamedDependency[Caller],
    unit: FromQuery[uuid.UUID | None] = None,
    from_date: FromQuery[date | None] = None,
    to_date: FromQuery[date | None] = None,
) -> list[ChannelTotal]:
    """Totals by channel over a unit's subtree, for periods overlapping [from_date, to_date] (D9, D26)."""
    db: Database = state.db
    async with db.read() as conn:
        return await service.channel_totals(conn, await unit_in_scope(conn, caller, unit), from_date, to_date)


ROUTES: tuple[Router, ...] = (
    record_routes(
        "/study-sessions",
        service.SESSIONS,
        read=StudySession,
        create=StudySessionCreate,
        update=StudySessionUpdate,
        tag="study",
        extra=[coverage],
    ),
    record_routes(
        "/propaganda",
        service.PROPAGANDA_ITEMS,
        read=Propaganda,
        create=PropagandaCreate,
        update=PropagandaUpdate,
        tag="propaganda",
        extra=[summary],
    ),
)
