"""The routes of `shared/essays/` under `/api/v1`: the generic record routes for templates and graded essays,
plus open rewrites, the participation summary and the .xlsx import."""

import uuid
from datetime import date

from litestar import Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery

from shared.api.resource import Api, Viewed, XlsxUpload, record_routes, require_upload
from shared.essays import service
from shared.essays.schemas import EssaySummary, Rewrite
from shared.members.schemas import ImportResult


@get("/rewrites")
async def open_rewrites(
    api: NamedDependency[Api], document: FromQuery[uuid.UUID | None] = None, unit: Viewed = None
) -> list[Rewrite]:
    """Members whose latest attempt is Yếu, so a rewrite is owed, per unit of the subtree (D13)."""
    return await api.read(lambda conn: service.list_open_rewrites(conn, api.caller, document, unit))


@get("/summary")
async def summary(api: NamedDependency[Api], document: FromQuery[uuid.UUID], unit: Viewed = None) -> EssaySummary:
    """Participation for a document over a subtree: obliged and encouraged apart (D12), bands by latest attempt;
    the same figures as the consolidation's."""
    return await api.read(lambda conn: service.essay_summary(conn, api.caller, document, unit))


@post("/import", status_code=200, before_request=require_upload)
async def import_grades(
    api: NamedDependency[Api],
    data: XlsxUpload,
    document: FromQuery[uuid.UUID],
    unit: Viewed = None,
    graded_on: FromQuery[date | None] = None,
    dry_run: FromQuery[bool] = False,
) -> ImportResult:
    """Import grades from .xlsx (Họ và tên, Năm sinh, Điểm, Ngày chấm; or Mã đảng viên) for members on rosters
    held here. All or nothing: any bad row refuses the file, with every problem listed by row (D13)."""
    content = await data.read()
    return await api.write(
        lambda conn: service.import_grade_file(conn, api.caller, content, document, unit, graded_on, dry_run)
    )


ROUTES: tuple[Router, ...] = (
    record_routes(
        "/essay-templates",
        service.TEMPLATES,
        tag="essays",
        filter_by="document",
        docs={
            "list": "Templates of the unit's own level and of the levels above it, and those written in its subtree "
            "(D11).",
            "create": "A level's lead agency writes the template for the members it summons (D11).",
        },
    ),
    record_routes(
        "/essays",
        service.GRADES,
        tag="essays",
        filter_by=("document", "member"),
        extra=[open_rewrites, summary, import_grades],
        docs={
            "list": "Graded attempts in a unit's subtree (grades travel up to the province).",
            "create": "Grade a member's essay: the first attempt, or a rewrite while the latest is Yếu (D13).",
            "revise": "Correct a score or date; the band follows the score (D13).",
        },
    ),
)
