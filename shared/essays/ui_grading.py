"""Chấm bài theo danh sách: a document's grading sheet for a unit's roster (D13). Each member's attempts in order,
a score box for the first attempt or the rewrite a Yếu essay owes, all filled boxes written together or none,
every refusal next to its member's box; the sheet as .xlsx."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromQuery, QueryParameter
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.core.errors import Refusal
from shared.core.scope import records, units_info, up_select, writes_here
from shared.documents.records import DocumentRecord
from shared.documents.service import visible_documents
from shared.domain.collation import name_key
from shared.domain.errors import ScoreError
from shared.domain.grades import format_score, parse_score
from shared.domain.obligations import OBLIGATION_LABELS_VI
from shared.essays.records import ESSAY_GRADE, EssayGradeRecord
from shared.essays.schemas import EssayCreate
from shared.essays.service import grade_essay
from shared.members.records import MemberRecord
from shared.members.service import roster
from shared.ui.export import xlsx_response
from shared.ui.forms import GENERAL, Form, Posted
from shared.ui.web import Frame, Page, back_to, render

PATH = "/bai-thu-hoach/cham-theo-danh-sach"
SHOWN = 1000
"""Most members on one sheet; a bigger subtree is narrowed by unit (or graded through the .xlsx import)."""
STATES = {"ungraded": "Chưa chấm", "rewrite": "Phải viết lại", "done": "Đã đạt"}
WhichQuery = Annotated[str | None, QueryParameter(name="state")]


class _Abort(Exception):
    """Leaves the write transaction when any row is refused, so no row of the sheet is written (all or nothing)."""


@dataclass(frozen=True)
class SheetRow:
    member: MemberRecord
    unit: str
    attempts: list[EssayGradeRecord]

    @property
    def state(self) -> str:
        if not self.attempts:
            return "ungraded"
        return "rewrite" if self.attempts[-1].band == "Yếu" else "done"

    @property
    def next_attempt(self) -> int:
        return len(self.attempts) + 1

    @property
    def key(self) -> str:
        return f"score_{self.member.id}"


async def sheet(conn: AsyncConnection, frame: Page, document: uuid.UUID, state: str | None) -> list[SheetRow]:
    """The roster of the viewed unit in name order, each member with their attempts for the document."""
    members = sorted(await roster(conn, frame.viewer), key=lambda m: name_key(m.full_name))
    table = ESSAY_GRADE.table
    grades: list[EssayGradeRecord] = await records(
        conn,
        ESSAY_GRADE,
        up_select(ESSAY_GRADE, frame.viewer).where(table.c.document == document, table.c.deleted.is_(False)),
    )
    by_member: dict[uuid.UUID, list[EssayGradeRecord]] = {}
    for g in grades:
        by_member.setdefault(g.member, []).append(g)
    units = await units_info(conn, list({m.owner for m in members}))
    rows = [
        SheetRow(m, units[m.owner].name if m.owner in units else "—", sorted(by_member.get(m.id, []), key=_attempt))
        for m in members
    ]
    return [r for r in rows if not state or r.state == state]


def _attempt(g: EssayGradeRecord) -> int:
    return g.attempt


async def _context(
    request: Request[Any, Any, State], frame: Page, document: uuid.UUID | None, state: str | None
) -> dict[str, Any]:
    async with request.app.state.db.read() as conn:
        docs: list[DocumentRecord] = sorted(
            await visible_documents(conn, frame.viewer), key=lambda d: (d.signed_on, d.number), reverse=True
        )
        signed = [d for d in docs if d.signed_on <= date.today()] or docs
        doc = next((d for d in docs if d.id == document), signed[0] if signed and document is None else None)
        rows = await sheet(conn, frame, doc.id, state) if doc else []
        writable = frame.can_edit and await writes_here(conn, frame.viewer)
    counts = {s: sum(r.state == s for r in rows) for s in STATES}
    return {
        "docs": docs,
        "doc": doc,
        "rows": rows[:SHOWN],
        "more": len(rows) > SHOWN,
        "counts": counts,
        "states": STATES,
        "state": state or "",
        "obligations": OBLIGATION_LABELS_VI,
        "writable": writable,
        "form": {},
        "errors": {},
        "today": date.today(),
        "graded": None,
        "path": PATH,
    }


def check_score(form: Form, name: str, text: str) -> None:
    """A score read on the page too (the service checks it again), so every problem of the form shows at once."""
    if text:
        try:
            parse_score(text)
        except ScoreError as exc:
            form.errors[name] = exc.message_vi


@get(PATH)
async def sheet_page(
    request: Request[Any, Any, State],
    frame: Frame,
    document: FromQuery[uuid.UUID | None] = None,
    which: WhichQuery = None,
    graded: FromQuery[int | None] = None,
) -> Response[Any]:
    context = await _context(request, frame, document, which)
    context["graded"] = graded
    return render("essay_sheet.html", frame, **context)


@get(PATH + ".xlsx")
async def sheet_xlsx(
    request: Request[Any, Any, State], frame: Frame, document: FromQuery[uuid.UUID], which: WhichQuery = None
) -> Response[Any]:
    """The sheet as filtered: one row per member, their latest result and every attempt."""
    async with request.app.state.db.read() as conn:
        rows = await sheet(conn, frame, document, which)
    header = ("Họ và tên", "Năm sinh", "Đơn vị", "Diện", "Số lần viết", "Điểm lần gần nhất", "Xếp loại", "Tình trạng",
              "Các lần chấm")  # fmt: skip
    body = [
        (
            r.member.full_name,
            r.member.birth_year,
            r.unit,
            OBLIGATION_LABELS_VI.get(r.member.obligation, r.member.obligation),
            len(r.attempts),
            r.attempts[-1].score if r.attempts else None,
            r.attempts[-1].band if r.attempts else "",
            STATES[r.state],
            "; ".join(f"lần {g.attempt}: {format_score(g.score)} ({g.band})" for g in r.attempts),
        )
        for r in rows
    ]
    return xlsx_response("cham-bai-thu-hoach.xlsx", "Chấm bài thu hoạch", header, body)


@post(PATH, status_code=303)
async def grade_sheet(
    request: Request[Any, Any, State],
    frame: Frame,
    form: Posted,
    document: FromQuery[uuid.UUID],
    which: WhichQuery = None,
) -> Response[Any]:
    """Grade every filled box of the sheet in one write; any refusal writes none (D13: a rewrite only while the
    latest attempt is Yếu; the grading unit is the unit viewed, the level that summoned the member)."""
    graded_on = form.day("graded_on")
    async with request.app.state.db.read() as conn:
        rows = await sheet(conn, frame, document, which)
    filled: list[tuple[str, SheetRow, str]] = []
    for r in rows:
        text = form.text(r.key)
        if not text:
            continue
        check_score(form, r.key, text)
        filled.append((r.key, r, text))
    if not filled and form.ok:
        form.errors[GENERAL] = "Chưa nhập điểm nào: ghi điểm vào ô của từng đảng viên rồi bấm «Ghi điểm»."

    async def grade_all(conn: AsyncConnection, graded_on: date) -> None:
        for key, r, text in filled:
            data = EssayCreate(r.member.id, document, text, graded_on, unit=frame.viewer.id)
            try:
                await grade_essay(conn, frame.me, data)
            except Refusal as exc:
                form.errors[key] = exc.problem.message
        if not form.ok:
            raise _Abort

    if form.ok and graded_on is not None:
        try:
            done = await form.save(lambda conn: grade_all(conn, graded_on))
        except _Abort:
            form.errors[GENERAL] = "Có ô điểm cần sửa (đánh dấu bên dưới); chưa ghi điểm nào."
            done = None
        if done:
            return back_to(PATH, frame, document=document, graded=len(filled))
    return form.again("essay_sheet.html", frame, await _context(request, frame, document, which))


PAGES = (sheet_page, sheet_xlsx, grade_sheet)
