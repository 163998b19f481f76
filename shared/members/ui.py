"""Đảng viên: the roster of a unit's subtree as this instance holds it (D12; personal data stays at the unit and its
parent), in Vietnamese name order with filters by unit and category, a form to add a member, the .xlsx roster
import with every bad row listed, and the list as .xlsx. One member's page (edit, move, leave) is `ui_member`."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromQuery, QueryParameter
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.core.scope import UnitInfo, records, subtree_units, units_info, up_select
from shared.domain.collation import name_key
from shared.domain.obligations import (
    OBLIGATION_LABELS_VI,
    OBLIGATIONS,
    OVER_60_ASSUMPTION_VI,
    RURAL_CELL_ASSUMPTION_VI,
)
from shared.members import ui_member
from shared.members.records import MEMBER, MemberRecord
from shared.members.schemas import MemberCreate
from shared.members.service import create_member, import_roster_file, member_out
from shared.members.ui_member import read_member, roster_units
from shared.ui.export import xlsx_response
from shared.ui.forms import Posted
from shared.ui.web import Frame, Page, back_to, render

SHOWN = 2000
"""Most members a page lists (sorted by name, so not paged by id); a bigger subtree is narrowed by unit."""
EXPORTED = 100_000
GROUPS = {"obliged_group": "Bắt buộc viết (mọi diện bắt buộc)", "encouraged_group": "Khuyến khích viết (các diện khác)"}
IMPORT_FIELDS = {
    "full_name": "Họ và tên",
    "birth_year": "Năm sinh",
    "obligation": "Diện",
    "post": "Chức vụ",
    "rural_cell": "Chi bộ nông thôn",
    "note": "Ghi chú",
    "file": "Tệp",
}
CategoryQuery = Annotated[str | None, QueryParameter(name="category")]


async def unit_choices(conn: AsyncConnection, frame: Page) -> list[UnitInfo]:
    """The units the unit filter offers: the signed-in person's own and two levels below it (a province has
    thousands of units further down; those are reached from their district), and the one being viewed."""
    me = frame.me.unit
    found = [u for u in await subtree_units(conn, me) if u.depth <= me.depth + 2]
    if all(u.id != frame.viewer.id for u in found):
        found.append(frame.viewer)
    return found


def _matches(rec: MemberRecord, category: str | None) -> bool:
    if not category:
        return True
    if category == "obliged_group":
        return rec.obligation == "obliged"
    if category == "encouraged_group":
        return rec.obligation != "obliged"
    return rec.obligation == category


async def filtered(conn: AsyncConnection, viewer: UnitInfo, category: str | None, limit: int) -> list[MemberRecord]:
    """Live members of the subtree held here, of a category (or group) if one is chosen, in name order."""
    stmt = up_select(MEMBER, viewer).where(MEMBER.table.c.deleted.is_(False))
    if category in OBLIGATIONS:
        stmt = stmt.where(MEMBER.table.c.obligation == category)
    rows: list[MemberRecord] = await records(conn, MEMBER, stmt.limit(limit + 1))
    return sorted((r for r in rows if _matches(r, category)), key=lambda r: name_key(r.full_name))


async def _context(request: Request[Any, Any, State], frame: Page, category: str | None) -> dict[str, Any]:
    async with request.app.state.db.read() as conn:
        rows = await filtered(conn, frame.viewer, category, SHOWN)
        units = await units_info(conn, list({r.owner for r in rows}))
        subtree = await unit_choices(conn, frame)
        targets = await roster_units(conn, frame.viewer) if frame.can_edit else []
    more = len(rows) > SHOWN
    return {
        "members": [member_out(r) for r in rows[:SHOWN]],
        "more": more,
        "units": units,
        "subtree": subtree,
        "targets": targets,
        "category": category or "",
        "categories": {**GROUPS, **OBLIGATION_LABELS_VI},
        "obligations": OBLIGATION_LABELS_VI,
        "assumptions": (RURAL_CELL_ASSUMPTION_VI, OVER_60_ASSUMPTION_VI),
        "form": {"unit": str(targets[0].id) if len(targets) == 1 else "", "obligation": "obliged"},
        "errors": {},
        "import_errors": {},
        "problems": [],
        "import_fields": IMPORT_FIELDS,
        "result": None,
        "saved": None,
    }


@get("/dang-vien")
async def members_page(
    request: Request[Any, Any, State],
    frame: Frame,
    category: CategoryQuery = None,
    created: FromQuery[int | None] = None,
    updated: FromQuery[int | None] = None,
    unchanged: FromQuery[int | None] = None,
    saved: FromQuery[str | None] = None,
) -> Response[Any]:
    context = await _context(request, frame, category)
    if created is not None:
        context["result"] = {"created": created, "updated": updated or 0, "unchanged": unchanged or 0}
    context["saved"] = saved
    return render("members.html", frame, **context)


@get("/dang-vien.xlsx")
async def members_xlsx(
    request: Request[Any, Any, State], frame: Frame, category: CategoryQuery = None
) -> Response[Any]:
    """The roster as filtered, in name order (personal data: only where the roster is held, D12)."""
    async with request.app.state.db.read() as conn:
        rows = (await filtered(conn, frame.viewer, category, EXPORTED))[:EXPORTED]
        units = await units_info(conn, list({r.owner for r in rows}))
    header = ("Họ và tên", "Năm sinh", "Đơn vị", "Diện viết bài thu hoạch", "Chức vụ", "Chi bộ nông thôn", "Ghi chú")
    body = [
        (
            r.full_name,
            r.birth_year,
            units[r.owner].name if r.owner in units else "",
            OBLIGATION_LABELS_VI.get(r.obligation, r.obligation),
            r.post,
            "Có" if r.rural_cell else "Không",
            r.note,
        )
        for r in rows
    ]
    return xlsx_response("dang-vien.xlsx", "Đảng viên", header, body)


@post("/dang-vien/them", status_code=303)
async def add_member(request: Request[Any, Any, State], frame: Frame, form: Posted) -> Response[Any]:
    """Add one member to a roster written here, with every check of `POST /api/v1/members` (D12)."""
    owner = form.ident("unit", required="Chọn chi bộ, đảng bộ của đảng viên.")
    fields = read_member(form)
    if form.ok and owner is not None:
        data = MemberCreate(**fields, unit=owner)
        if await form.save(lambda conn: create_member(conn, frame.me, data)):
            return back_to("/dang-vien", frame, saved="added")
    return form.again("members.html", frame, await _context(request, frame, None))


@post("/dang-vien/nhap", status_code=303)
async def import_roster(request: Request[Any, Any, State], frame: Frame, form: Posted) -> Response[Any]:
    """Import the unit's roster from .xlsx, all or nothing (`POST /api/v1/members/import`); "check only" writes
    nothing and says what would change."""
    upload = form.file("file")
    dry_run = form.data.get("dry_run") == "1"
    result = None
    if form.ok and upload is not None:
        content = await upload.read()
        done = await form.save(
            lambda conn: import_roster_file(conn, frame.me, content, frame.viewer.id, dry_run), form.refused_file
        )
        result = done.value if done else None
        if result is not None and not dry_run:
            counts = {k: getattr(result, k) for k in ("created", "updated", "unchanged")}
            return back_to("/dang-vien", frame, **counts)
    context = await _context(request, frame, None)
    context.update(import_errors=form.errors, problems=form.problems)
    if result is not None:
        context["result"] = {**{k: getattr(result, k) for k in ("created", "updated", "unchanged")}, "dry_run": True}
    return render("members.html", frame, status_code=200 if result is not None else 422, **context)


PAGES = (members_page, members_xlsx, add_member, import_roster, *ui_member.PAGES)
