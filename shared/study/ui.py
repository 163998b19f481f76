"""Học tập & tuyên truyền: study sessions (D8, D3) and propaganda by channel (D9) held in a unit's subtree, with the
forms to record them for the unit being viewed (editor and above)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeAlias

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery

from shared.core.scope import Caller, down_select, records, units_info
from shared.core.service import RecordService
from shared.documents.records import DOCUMENT
from shared.documents.service import newest_documents
from shared.domain.formatting import format_date
from shared.study.records import CHANNELS, SESSION_FORMS
from shared.study.schemas import (
    CHANNEL_LABELS_VI,
    FORM_LABELS_VI,
    PropagandaCreate,
    PropagandaUpdate,
    StudySessionCreate,
    StudySessionUpdate,
)
from shared.study.service import PROPAGANDA_ITEMS, SESSIONS
from shared.ui.export import xlsx_response
from shared.ui.forms import Form, Posted
from shared.ui.web import Frame, Page, back_to, page_for, render

PAGE_SIZE = 200


async def _context(request: Request[Any, Any, State], frame: Page) -> dict[str, Any]:
    """The lists `GET /api/v1/study-sessions` and `GET /api/v1/propaganda` give, newest first."""
    async with request.app.state.db.read() as conn:
        sessions = await SESSIONS.list_all(conn, frame.me, frame.viewer.id)
        activities = await PROPAGANDA_ITEMS.list_all(conn, frame.me, frame.viewer.id)
        docs = await newest_documents(conn, frame.viewer)
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


@get("/hoc-tap/buoi-hoc.xlsx")
async def sessions_xlsx(request: Request[Any, Any, State], frame: Frame) -> Response[Any]:
    """Every study session of the subtree, newest first (D8)."""
    async with request.app.state.db.read() as conn:
        sessions = await SESSIONS.list_all(conn, frame.me, frame.viewer.id)
        named = await _document_numbers(conn, frame, {d for s in sessions for d in s.documents})
        units = await units_info(conn, list({s.owner for s in sessions}))
    header = ("Ngày", "Hội nghị, buổi học", "Thành phần", "Đơn vị tổ chức", "Văn bản", "Hình thức", "Triệu tập",
              "Tham dự")  # fmt: skip
    rows = [
        (
            s.held_on,
            s.title,
            s.participants,
            units[s.owner].name if s.owner in units else "",
            ", ".join(named.get(d, "") for d in s.documents),
            FORM_LABELS_VI.get(s.form, s.form),
            s.invited,
            s.attended,
        )
        for s in sorted(sessions, key=lambda s: s.held_on, reverse=True)
    ]
    return xlsx_response("hoc-tap.xlsx", "Học tập, quán triệt", header, rows)


@get("/hoc-tap/tuyen-truyen.xlsx")
async def propaganda_xlsx(request: Request[Any, Any, State], frame: Frame) -> Response[Any]:
    """Every propaganda entry of the subtree, newest period first (D9)."""
    async with request.app.state.db.read() as conn:
        items = await PROPAGANDA_ITEMS.list_all(conn, frame.me, frame.viewer.id)
        named = await _document_numbers(conn, frame, {a.document for a in items if a.document})
        units = await units_info(conn, list({a.owner for a in items}))
    header = ("Từ ngày", "Đến ngày", "Kênh", "Đơn vị", "Văn bản", "Số lượt, buổi", "Số người tiếp cận", "Ghi chú")
    rows = [
        (
            a.period_start,
            a.period_end,
            CHANNEL_LABELS_VI.get(a.channel, a.channel),
            units[a.owner].name if a.owner in units else "",
            named.get(a.document, "") if a.document else "",
            a.count,
            a.reached,
            a.note,
        )
        for a in sorted(items, key=lambda a: a.period_start, reverse=True)
    ]
    return xlsx_response("tuyen-truyen.xlsx", "Tuyên truyền", header, rows)


async def _document_numbers(conn: Any, frame: Page, wanted: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    named = await records(conn, DOCUMENT, down_select(DOCUMENT, frame.viewer).where(DOCUMENT.table.c.id.in_(wanted)))
    return {d.id: d.number for d in named}


@get("/hoc-tap")
async def study_page(
    request: Request[Any, Any, State], frame: Frame, saved: FromQuery[str | None] = None
) -> Response[Any]:
    context = await _context(request, frame)
    context["saved"] = saved
    return render("study.html", frame, **context)


def _session_data(form: Form, unit: uuid.UUID) -> StudySessionCreate | None:
    """A study session as typed, or None with each problem next to its field (D8)."""
    title = form.text("title", required="Nhập tên hội nghị, buổi học tập.")
    documents = form.idents("documents")
    if not documents and "documents" not in form.errors:
        form.errors["documents"] = "Chọn ít nhất một văn bản được học tập, quán triệt."
    held_on = form.day("held_on")
    kind = form.choice("form", SESSION_FORMS, message="Chọn hình thức: trực tiếp, trực tuyến hoặc kết hợp.")
    invited = form.number("invited", label="Số được triệu tập")
    attended = form.number("attended", label="Số tham dự")
    participants = form.text("participants")
    if not form.ok or held_on is None or invited is None or attended is None:
        return None
    return StudySessionCreate(title, documents, held_on, kind, invited, attended, participants, unit)


def _propaganda_data(form: Form, unit: uuid.UUID) -> PropagandaCreate | None:
    """A propaganda activity as typed, or None with each problem next to its field (D9)."""
    channel = form.choice("channel", CHANNELS, message="Chọn kênh tuyên truyền.")
    start = form.day("period_start")
    end = form.day("period_end")
    count = form.number("count", label="Số lượt, số buổi")
    reached = form.number("reached", label="Số người được tiếp cận")
    document = form.ident("document")
    note = form.text("note")
    if not form.ok or start is None or end is None or count is None or reached is None:
        return None
    return PropagandaCreate(channel, start, end, count, reached, document, note, unit)


@dataclass(frozen=True)
class _Kind:
    """One of the page's two record kinds: its service, how a form is read, and its words."""

    service: RecordService[Any]
    read: Callable[[Form, uuid.UUID], Any]
    update: type[msgspec.Struct]
    saved: str
    title: str


KINDS = {
    "buoi-hoc": _Kind(SESSIONS, _session_data, StudySessionUpdate, "session", "buổi học tập, quán triệt"),
    "tuyen-truyen": _Kind(PROPAGANDA_ITEMS, _propaganda_data, PropagandaUpdate, "propaganda", "hoạt động tuyên truyền"),
}


def _kind_of(slug: str) -> _Kind:
    """The record kind a page's path names (`/hoc-tap/<slug>/...`); any other slug is not found."""
    if slug not in KINDS:
        raise NotFoundException()
    return KINDS[slug]


async def _add(request: Request[Any, Any, State], caller: Caller, unit: uuid.UUID | None, slug: str) -> Response[Any]:
    kind = KINDS[slug]
    frame = await page_for(request, caller, unit)
    form = await Form.posted(request)
    data = kind.read(form, frame.viewer.id)
    if data is not None and await form.save(lambda conn: kind.service.create(conn, caller, data)):
        return back_to("/hoc-tap", frame, saved=kind.saved)
    return form.again("study.html", frame, await _context(request, frame), prefix=f"{kind.saved}_")


@post("/hoc-tap/buoi-hoc", status_code=303)
async def add_session(
    request: Request[Any, Any, State], caller: NamedDependency[Caller], unit: FromQuery[uuid.UUID | None] = None
) -> Response[Any]:
    """Record a study session of the unit being viewed, with every check of `POST /api/v1/study-sessions` (D8)."""
    return await _add(request, caller, unit, "buoi-hoc")


@post("/hoc-tap/tuyen-truyen", status_code=303)
async def add_propaganda(
    request: Request[Any, Any, State], caller: NamedDependency[Caller], unit: FromQuery[uuid.UUID | None] = None
) -> Response[Any]:
    """Record propaganda of the unit being viewed by channel, count and people reached (D9)."""
    return await _add(request, caller, unit, "tuyen-truyen")


def _as_typed(rec: Any) -> dict[str, Any]:
    """A stored record as its form shows it: dates dd/mm/yyyy, ids as text."""
    values: dict[str, Any] = {}
    for name in rec.__struct_fields__:
        value = getattr(rec, name)
        if isinstance(value, date):
            values[name] = format_date(value)
        elif isinstance(value, list):
            values[name] = [str(v) for v in value]
        else:
            values[name] = "" if value is None else str(value)
    return values


@dataclass(frozen=True, slots=True)
class _Edited:
    """The record a route under `/hoc-tap/<slug>/<id>` acts on: who acts, the record's kind (from the slug), its id."""

    request: Request[Any, Any, State]
    caller: NamedDependency[Caller]
    slug: FromPath[str]
    record_id: FromPath[uuid.UUID]

    def __post_init__(self) -> None:
        _kind_of(self.slug)  # any other slug is not found

    @property
    def kind(self) -> _Kind:
        return KINDS[self.slug]

    async def page(self, form: Form | None = None) -> Response[Any]:
        """The record with its form to correct it: as held, or (422) as typed with the problems."""
        async with self.request.app.state.db.read() as conn:
            rec = await self.kind.service.get(conn, self.caller, self.record_id)
            docs = await newest_documents(conn, self.caller.unit)
        frame = await page_for(self.request, self.caller, rec.owner)
        return render(
            "study_edit.html",
            frame,
            status_code=200 if form is None else 422,
            slug=self.slug,
            kind=self.kind,
            rec=rec,
            docs=docs,
            forms=FORM_LABELS_VI,
            channels=CHANNEL_LABELS_VI,
            form=_as_typed(rec) if form is None else form.values,
            errors={} if form is None else form.errors,
        )

    async def back(self, owner: uuid.UUID, done: str) -> Response[Any]:
        """To the study page of the record's unit, saying what was done (`session-edited`, `propaganda-deleted`)."""
        return back_to("/hoc-tap", await page_for(self.request, self.caller, owner), saved=f"{self.kind.saved}-{done}")


EDITED = {"edited": Provide(_Edited, sync_to_thread=False)}
Edited: TypeAlias = NamedDependency[_Edited]


@get("/hoc-tap/{slug:str}/{record_id:uuid}", dependencies=EDITED)
async def edit_page(edited: Edited) -> Response[Any]:
    """A study session or propaganda activity with its form to correct it, and a button to delete it."""
    return await edited.page()


@post("/hoc-tap/{slug:str}/{record_id:uuid}", status_code=303, dependencies=EDITED)
async def edit(edited: Edited, form: Posted) -> Response[Any]:
    """Save a correction; refused if someone changed the record since the form was opened (rev)."""
    kind, caller = edited.kind, edited.caller
    rev = str(form.data.get("rev") or "")  # not a field of its own: a stale edit is told above the form
    data = kind.read(form, caller.unit.id)
    if data is not None:
        fields = {n: getattr(data, n) for n in kind.update.__struct_fields__ if n != "rev" and hasattr(data, n)}
        update = kind.update(rev=int(rev) if rev.isdigit() else msgspec.UNSET, **fields)
        done = await form.save(lambda conn: kind.service.revise(conn, caller, edited.record_id, update))
        if done:
            return await edited.back(done.value.owner, "edited")
    return await edited.page(form)


@post("/hoc-tap/{slug:str}/{record_id:uuid}/xoa", status_code=303, dependencies=EDITED)
async def remove(edited: Edited, form: Posted) -> Response[Any]:
    """Delete a record entered by mistake; it disappears wherever it has travelled (a tombstone)."""
    rev = form.text("rev")
    async with edited.request.app.state.db.write() as conn:
        rec = await edited.kind.service.get(conn, edited.caller, edited.record_id)
        await edited.kind.service.delete(conn, edited.caller, edited.record_id, int(rev) if rev.isdigit() else None)
    return await edited.back(rec.owner, "deleted")


PAGES = (sessions_xlsx, propaganda_xlsx, study_page, add_session, add_propaganda, edit_page, edit, remove)
