"""One member's page: details, edit (D12 category), move to another unit, leave the roster, and the history of
their graded essays with every attempt (D13)."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.core.scope import (
    UnitInfo,
    down_select,
    records,
    subtree_units,
    unit_info,
    units_info,
    writes_here,
)
from shared.documents.records import DOCUMENT, DocumentRecord
from shared.domain.collation import vi_key
from shared.domain.obligations import OBLIGATION_LABELS_VI, OBLIGATIONS
from shared.domain.tree import UnitKind
from shared.essays.schemas import Essay
from shared.essays.service import list_essays
from shared.members.schemas import LEAVE_REASONS_VI, Member, MemberUpdate
from shared.members.service import edit_member, get_member, leave_member, move_member
from shared.sync.tables import ChildNode, Identity, UnitRow
from shared.ui.forms import Form, Posted
from shared.ui.web import Frame, Page, back_to, render

ROSTER_KINDS = (UnitKind.BASE_ORGANISATION.value, UnitKind.CELL.value)
"""Units that keep a roster: base organisations and their cells (a committee's members are on those)."""


async def roster_units(conn: AsyncConnection, viewer: UnitInfo) -> list[UnitInfo]:
    """Units of the viewer's subtree whose roster is written on this instance (where members may be added or
    moved to), in Vietnamese name order: `writes_here`'s rule, read once for the whole subtree."""
    identity = (await conn.execute(select(Identity.unit))).scalar_one_or_none()
    mine = None if identity is None else await unit_info(conn, identity)
    served = (
        await conn.execute(
            select(UnitRow.path)
            .select_from(ChildNode)
            .join(UnitRow, UnitRow.id == ChildNode.unit)
            .where(ChildNode.revoked_at.is_(None))
        )
    ).scalars()
    elsewhere = tuple(served)
    found = [
        u
        for u in await subtree_units(conn, viewer)
        if u.kind in ROSTER_KINDS
        and (identity is None or (mine is not None and mine.covers(u)))
        and not u.path.startswith(elsewhere)
    ]
    return sorted(found, key=lambda u: vi_key(u.name))


def read_member(form: Form) -> dict[str, Any]:
    """The member fields of the add and edit forms, each problem next to its field."""
    full_name = form.text("full_name", required="Nhập họ và tên đảng viên.")
    year = form.number("birth_year", label="Năm sinh")
    obligation = form.choice("obligation", OBLIGATIONS, message="Chọn diện viết bài thu hoạch (D12).")
    post_ = form.text("post")
    rural = form.data.get("rural_cell") == "1"
    form.values["rural_cell"] = "1" if rural else ""
    note = form.text("note")
    return {
        "full_name": full_name,
        "birth_year": year,
        "obligation": obligation,
        "post": post_,
        "rural_cell": rural,
        "note": note,
    }


async def essay_history(conn: AsyncConnection, frame: Page, member: uuid.UUID) -> list[dict[str, Any]]:
    """The member's graded essays per document, attempts in order (D13: the result is the latest attempt)."""
    essays: list[Essay] = await list_essays(conn, frame.me, member=member, unit=frame.viewer.id, limit=1000)
    docs: list[DocumentRecord] = await records(
        conn, DOCUMENT, down_select(DOCUMENT, frame.viewer).where(DOCUMENT.table.c.id.in_({e.document for e in essays}))
    )
    numbers = {d.id: f"{d.number} — {d.title}" for d in docs}
    by_doc: dict[uuid.UUID, list[Essay]] = {}
    for e in essays:
        by_doc.setdefault(e.document, []).append(e)
    return [
        {"document": numbers.get(d, "—"), "attempts": sorted(es, key=lambda e: e.attempt)} for d, es in by_doc.items()
    ]


async def _move_scope(conn: AsyncConnection, frame: Page, unit: UnitInfo) -> UnitInfo:
    """Where a member may be moved to from the page: the district (first committee above their unit) or the
    signed-in person's unit, whichever is lower; a move further is a transfer between nodes."""
    while unit.kind != UnitKind.COMMITTEE.value and unit.parent is not None and unit.id != frame.me.unit.id:
        parent = await unit_info(conn, unit.parent)
        if parent is None or not frame.me.unit.covers(parent):
            break
        unit = parent
    return unit


async def _context(request: Request[Any, Any, State], frame: Page, member_id: uuid.UUID) -> dict[str, Any]:
    async with request.app.state.db.read() as conn:
        m: Member = await get_member(conn, frame.me, member_id)
        units = await units_info(conn, [m.unit])
        writable = frame.can_edit and await writes_here(conn, units[m.unit])
        targets = []
        if writable:
            scope = await _move_scope(conn, frame, units[m.unit])
            targets = [u for u in await roster_units(conn, scope) if u.id != m.unit]
        history = await essay_history(conn, frame, m.id)
    return {
        "m": m,
        "unit": units.get(m.unit),
        "writable": writable,
        "targets": targets,
        "history": history,
        "obligations": OBLIGATION_LABELS_VI,
        "reasons": LEAVE_REASONS_VI,
        "form": {
            "full_name": m.full_name,
            "birth_year": str(m.birth_year),
            "obligation": m.obligation,
            "post": m.post,
            "rural_cell": "1" if m.rural_cell else "",
            "note": m.note,
        },
        "errors": {},
        "move_form": {},
        "move_errors": {},
        "leave_form": {},
        "leave_errors": {},
        "saved": None,
    }


def _rev(form: Form) -> int | None:
    """The version the form was opened on (hidden field), so an edit of an older version is refused."""
    text = str(form.data.get("rev") or "")
    return int(text) if text.isdigit() else None


@get("/dang-vien/{member_id:uuid}")
async def member_page(
    request: Request[Any, Any, State], frame: Frame, member_id: FromPath[uuid.UUID], saved: FromQuery[str | None] = None
) -> Response[Any]:
    context = await _context(request, frame, member_id)
    context["saved"] = saved
    return render("member.html", frame, **context)


@post("/dang-vien/{member_id:uuid}/sua", status_code=303)
async def edit(
    request: Request[Any, Any, State], frame: Frame, form: Posted, member_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Edit a member's details and D12 category (`PATCH /api/v1/members/{id}`), refused on a stale version."""
    fields = read_member(form)
    rev = _rev(form)
    update = MemberUpdate(rev=rev if rev is not None else msgspec.UNSET, **fields)
    if form.ok and await form.save(lambda conn: edit_member(conn, frame.me, member_id, update)):
        return back_to(f"/dang-vien/{member_id}", frame, saved="edited")
    return form.again("member.html", frame, await _context(request, frame, member_id))


@post("/dang-vien/{member_id:uuid}/chuyen", status_code=303)
async def move(
    request: Request[Any, Any, State], frame: Frame, form: Posted, member_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Move a member to another unit written here; their essays stay theirs and both units' counts change."""
    target = form.ident("unit", required="Chọn đơn vị chuyển đến.")
    rev = _rev(form)
    if (
        form.ok
        and target is not None
        and await form.save(lambda conn: move_member(conn, frame.me, member_id, target, rev))
    ):
        return back_to(f"/dang-vien/{member_id}", frame, saved="moved")
    return form.again("member.html", frame, await _context(request, frame, member_id), prefix="move_")


@post("/dang-vien/{member_id:uuid}/roi", status_code=303)
async def leave(
    request: Request[Any, Any, State], frame: Frame, form: Posted, member_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Take a member off the roster with a reason; the unit's counts change at once (D12, D26)."""
    reason = form.choice("reason", LEAVE_REASONS_VI, message="Chọn lý do rời danh sách.")
    confirmed = form.data.get("confirm") == "1"
    form.values["confirm"] = "1" if confirmed else ""
    if not confirmed:
        form.errors["confirm"] = "Đánh dấu ô này để xác nhận: tên đảng viên sẽ bị xóa khỏi danh sách."
    rev = _rev(form)
    if form.ok and await form.save(lambda conn: leave_member(conn, frame.me, member_id, reason, rev)):
        return back_to("/dang-vien", frame, saved="left")
    return form.again("member.html", frame, await _context(request, frame, member_id), prefix="leave_")


PAGES = (member_page, edit, move, leave)
