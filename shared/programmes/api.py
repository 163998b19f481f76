"""Action programmes (D14, D15) and their progress (D18) under `/api/v1`: the generic record routes plus coverage
and the yearly report."""

import uuid

from litestar import Router, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody

from shared.api.resource import record_routes
from shared.core.scope import Caller, unit_in_scope
from shared.db.engine import Database
from shared.programmes import service
from shared.programmes.schemas import (
    Programme,
    ProgrammeCoverageRow,
    ProgrammeCreate,
    ProgrammeUpdate,
    Progress,
    ProgressCreate,
)


@get("/coverage")
async def coverage(
    state: State,
    caller: NamedDependency[Caller],
    document: FromQuery[uuid.UUID],
    unit: FromQuery[uuid.UUID | None] = None,
) -> list[ProgrammeCoverageRow]:
    """Which units of a subtree have built their programme for a document (D14); cells carry out their base's."""
    db: Database = state.db
    async with db.read() as conn:
        return await service.coverage(conn, await unit_in_scope(conn, caller, unit), document)


@post("/")
async def report(state: State, caller: NamedDependency[Caller], data: JSONBody[ProgressCreate]) -> Progress:
    """Report a target's value for a year (D18); a second report for the same year replaces the first."""
    db: Database = state.db
    async with db.write() as conn:
        return service.progress_out(await service.report_progress(conn, caller, data))


ROUTES: tuple[Router, ...] = (
    record_routes(
        "/action-programmes",
        service.PROGRAMMES,
        read=Programme,
        create=ProgrammeCreate,
        update=ProgrammeUpdate,
        tag="action programmes",
        to_out=service.programme_out,
        detail=service.programme_detail,
        filter_by="document",
        extra=[coverage],
    ),
    record_routes(
        "/programme-progress",
        service.PROGRESS,
        read=Progress,
        tag="action programmes",
        to_out=service.progress_out,
        filter_by="programme",
        removable=False,
        extra=[report],
    ),
)
