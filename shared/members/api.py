"""The routes of `shared/members/` under `/api/v1`: the generic record routes for the roster, plus its .xlsx import."""

from litestar import Router, post
from litestar.di import NamedDependency
from litestar.params import FromQuery

from shared.api.resource import Api, Viewed, XlsxUpload, record_routes, require_upload
from shared.members import service
from shared.members.schemas import ImportResult


@post("/import", status_code=200, before_request=require_upload)
async def import_roster(
    api: NamedDependency[Api], data: XlsxUpload, unit: Viewed = None, dry_run: FromQuery[bool] = False
) -> ImportResult:
    """Import a unit's roster from .xlsx (Họ và tên, Năm sinh, Diện, Chức vụ, Chi bộ nông thôn, Ghi chú).

    All or nothing: any bad row refuses the whole file with every problem listed by row. A row whose name and
    birth year match a member already held updates that member.
    """
    content = await data.read()
    return await api.write(lambda conn: service.import_roster_file(conn, api.caller, content, unit, dry_run))


ROUTES: tuple[Router, ...] = (
    record_routes(
        "/members",
        service.MEMBERS,
        tag="members",
        extra=[import_roster],
        docs={
            "list": "Members of a unit's subtree held here (a unit and its parent hold a roster; no level above does).",
            "delete": "Take a member off the roster (moved away, deceased): a tombstone that clears the name too.",
        },
    ),
)
