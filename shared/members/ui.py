"""Đảng viên: the roster of a unit's subtree as this instance holds it (D12; personal data stays at the unit and its
parent), and the .xlsx roster import with every bad row listed."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect

from shared.core.errors import Refusal, RowProblem
from shared.core.scope import Caller, page, records, units_info, up_select
from shared.domain.obligations import OVER_60_ASSUMPTION_VI, RURAL_CELL_ASSUMPTION_VI
from shared.members.records import MEMBER
from shared.members.service import import_roster_file, member_out
from shared.ui.forms import GENERAL, Form
from shared.ui.web import Page, page_for, render

PAGE_SIZE = 500
IMPORT_FIELDS = {
    "full_name": "Họ và tên",
    "birth_year": "Năm sinh",
    "obligation": "Diện",
    "post": "Chức vụ",
    "rural_cell": "Chi bộ nông thôn",
    "note": "Ghi chú",
    "file": "Tệp",
}


async def _context(request: Request[Any, Any, State], frame: Page, after: uuid.UUID | None) -> dict[str, Any]:
    """The roster as `GET /api/v1/members` lists it: members of the subtree held here, in pages."""
    async with request.app.state.db.read() as conn:
        rows = await records(conn, MEMBER, page(up_select(MEMBER, frame.viewer), MEMBER, after, PAGE_SIZE + 1))
        units = await units_info(conn, list({r.owner for r in rows}))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return {
        "members": [member_out(r) for r in rows],
        "units": units,
        "next_after": rows[-1].id if more else None,
        "assumptions": (RURAL_CELL_ASSUMPTION_VI, OVER_60_ASSUMPTION_VI),
        "errors": {},
        "problems": [],
        "import_fields": IMPORT_FIELDS,
        "result": None,
    }


@get("/dang-vien")
async def members_page(
    request: Request[Any, Any, State],
    caller: NamedDependency[Caller],
    unit: FromQuery[uuid.UUID | None] = None,
    after: FromQuery[uuid.UUID | None] = None,
    created: FromQuery[int | None] = None,
    updated: FromQuery[int | None] = None,
    unchanged: FromQuery[int | None] = None,
) -> Response[Any]:
    frame = await page_for(request, caller, unit)
    context = await _context(request, frame, after)
    if created is not None:
        context["result"] = {"created": created, "updated": updated or 0, "unchanged": unchanged or 0}
    return render("members.html", frame, **context)


@post("/dang-vien/nhap", status_code=303)
async def import_roster(
    request: Request[Any, Any, State],
    caller: NamedDependency[Caller],
    unit: FromQuery[uuid.UUID | None] = None,
) -> Response[Any]:
    """Import the unit's roster from .xlsx, all or nothing (`POST /api/v1/members/import`); "check only" writes
    nothing and says what would change."""
    frame = await page_for(request, caller, unit)
    form = Form(await request.form())
    upload = form.file("file")
    dry_run = form.data.get("dry_run") == "1"
    problems: list[RowProblem] = []
    result = None
    if form.ok and upload is not None:
        try:
            content = await upload.read()
            async with request.app.state.db.write() as conn:
                result = await import_roster_file(conn, caller, content, frame.viewer.id, dry_run)
        except Refusal as exc:
            problems = exc.problem.rows or []
            form.errors[GENERAL if problems else "file"] = exc.problem.message
        else:
            if not dry_run:
                query = "&".join(
                    q
                    for q in (
                        frame.unit_query(),
                        f"created={result.created}&updated={result.updated}&unchanged={result.unchanged}",
                    )
                    if q
                )
                return Redirect(f"/dang-vien?{query}", status_code=303)
    context = await _context(request, frame, None)
    context.update(errors=form.errors, problems=problems)
    if result is not None:
        context["result"] = {**{k: getattr(result, k) for k in ("created", "updated", "unchanged")}, "dry_run": True}
    return render("members.html", frame, status_code=200 if result is not None else 422, **context)


PAGES = (members_page, import_roster)
