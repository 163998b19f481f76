"""Học tập & tuyên truyền: study sessions (D8, D3) and propaganda by channel (D9) held in a unit's subtree, with the
forms to record them for the unit being viewed (editor and above)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect

from shared.calendar.api import _visible_docs
from shared.core.errors import Refusal
from shared.core.scope import Caller, down_select, records, units_info
from shared.documents.records import DOCUMENT
from shared.study.records import CHANNELS, SESSION_FORMS
from shared.study.schemas import CHANNEL_LABELS_VI, FORM_LABELS_VI, PropagandaCreate, StudySessionCreate
from shared.study.service import PROPAGANDA_ITEMS, SESSIONS
from shared.ui.forms import Form
from shared.ui.web import Page, page_for, render

PAGE_SIZE = 200


async def _context(request: Request[Any, Any, State], frame: Page) -> dict[str, Any]:
    """The lists `GET /api/v1/study-sessions` and `GET /api/v1/propaganda` give, newest first."""
    async with request.app.state.db.read() as conn:
        sessions = await SESSIONS.list_all(conn, frame.me, frame.viewer.id)
        activities = await PROPAGANDA_ITEMS.list_all(conn, frame.me, frame.viewer.id)
        docs = sorted(await _visible_docs(conn, frame.viewer), key=lambda d: d.signed_on, reverse=True)
        wanted = {d for s in sessions for d in s.documents} | {a.document for a in activities if a.document}
        named = await records(
            conn, DOCUMENT, down_select(DOCUMENT, frame.viewer).where(DOCUMENT.table.c.id.in_(wanted))
        )
        units = await units_info(conn, list({r.owner for r in [*sessions, *activities]}))
    return {
        "sessions": sorted(sessions, key=lambda s: s.held_on, reverse=True)[:PAGE_SIZE],
        "sessions_total": len(sessions),
        "activities": sorted(activities, key=lambda a: a.period_start, reverse=True)[:PAGE_SIZE],
        "activities_total": len(activities),
        "numbers": {d.id: d.number for d in named},
        "units": units,
        "docs": docs,
        "forms": FORM_LABELS_VI,
        "channels": CHANNEL_LABELS_VI,
        "session_form": {},
        "session_errors": {},
        "propaganda_form": {},
        "propaganda_errors": {},
        "saved": None,
    }


@get("/hoc-tap")
async def study_page(
    request: Request[Any, Any, State],
    caller: NamedDependency[Caller],
    unit: FromQuery[uuid.UUID | None] = None,
    saved: FromQuery[str | None] = None,
) -> Response[Any]:
    frame = await page_for(request, caller, unit)
    context = await _context(request, frame)
    context["saved"] = saved
    return render("study.html", frame, **context)


def _back(frame: Page, saved: str) -> Redirect:
    query = "&".join(q for q in (frame.unit_query(), f"saved={saved}") if q)
    return Redirect(f"/hoc-tap?{query}", status_code=303)


@post("/hoc-tap/buoi-hoc", status_code=303)
async def add_session(
    request: Request[Any, Any, State], caller: NamedDependency[Caller], unit: FromQuery[uuid.UUID | None] = None
) -> Response[Any]:
    """Record a study session of the unit being viewed, with every check of `POST /api/v1/study-sessions` (D8)."""
    frame = await page_for(request, caller, unit)
    form = Form(await request.form())
    title = form.text("title", required="Nhập tên hội nghị, buổi học tập.")
    documents = form.idents("documents")
    if not documents and "documents" not in form.errors:
        form.errors["documents"] = "Chọn ít nhất một văn bản được học tập, quán triệt."
    held_on = form.day("held_on")
    kind = form.choice("form", SESSION_FORMS, message="Chọn hình thức: trực tiếp, trực tuyến hoặc kết hợp.")
    invited = form.number("invited", label="Số được triệu tập")
    attended = form.number("attended", label="Số tham dự")
    participants = form.text("participants")
    if form.ok and held_on is not None and invited is not None and attended is not None:
        data = StudySessionCreate(
            title=title,
            documents=documents,
            held_on=held_on,
            form=kind,
            invited=invited,
            attended=attended,
            participants=participants,
            unit=frame.viewer.id,
        )
        try:
            async with request.app.state.db.write() as conn:
                await SESSIONS.create(conn, caller, data)
        except Refusal as exc:
            form.refused(exc)
        else:
            return _back(frame, "session")
    context = await _context(request, frame)
    context.update(session_form=form.values, session_errors=form.errors)
    return render("study.html", frame, status_code=422, **context)


@post("/hoc-tap/tuyen-truyen", status_code=303)
async def add_propaganda(
    request: Request[Any, Any, State], caller: NamedDependency[Caller], unit: FromQuery[uuid.UUID | None] = None
) -> Response[Any]:
    """Record propaganda of the unit being viewed by channel, count and people reached (D9)."""
    frame = await page_for(request, caller, unit)
    form = Form(await request.form())
    channel = form.choice("channel", CHANNELS, message="Chọn kênh tuyên truyền.")
    start = form.day("period_start")
    end = form.day("period_end")
    count = form.number("count", label="Số lượt, số buổi")
    reached = form.number("reached", label="Số người được tiếp cận")
    document = form.ident("document")
    note = form.text("note")
    if form.ok and start is not None and end is not None and count is not None and reached is not None:
        data = PropagandaCreate(
            channel=channel,
            period_start=start,
            period_end=end,
            count=count,
            reached=reached,
            document=document,
            note=note,
            unit=frame.viewer.id,
        )
        try:
            async with request.app.state.db.write() as conn:
                await PROPAGANDA_ITEMS.create(conn, caller, data)
        except Refusal as exc:
            form.refused(exc)
        else:
            return _back(frame, "propaganda")
    context = await _context(request, frame)
    context.update(propaganda_form=form.values, propaganda_errors=form.errors)
    return render("study.html", frame, status_code=422, **context)


PAGES = (study_page, add_session, add_propaganda)
