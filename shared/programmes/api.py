"""Action programmes (D14, D15) and their progress (D18) under `/api/v1`: the generic record routes plus coverage
and the yearly report."""

import uuid

from litestar import Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody

from shared.api.resource import Api, Viewed, record_routes
from shared.programmes import service
from shared.programmes.schemas import ProgrammeCoverageRow, Progress, ProgressCreate


@get("/coverage")
async def coverage(
    api: NamedDependency[Api], document: FromQuery[uuid.UUID], unit: Viewed = None
) -> list[ProgrammeCoverageRow]:
    """Which units of a subtree have built their programme for a document (D14); cells carry out their base's."""
    return await api.viewing(unit, lambda conn, viewer: service.coverage(conn, viewer, document))


@post("/")
async def report(api: NamedDependency[Api], data: JSONBody[ProgressCreate]) -> Progress:
    """Report a target's value for a year (D18); a second report for the same year replaces the first."""
    return service.progress_out(await api.write(lambda conn: service.report_progress(conn, api.caller, data)))


ROUTES: tuple[Router, ...] = (
    record_routes(
        "/action-programmes",
        service.PROGRAMMES,
        tag="action programmes",
        detail=service.programme_detail,
        filter_by="document",
        extra=[coverage],
    ),
    record_routes(
        "/programme-progress",
        service.PROGRESS,
        tag="action programmes",
        filter_by="programme",
        removable=False,
        extra=[report],
    ),
)
