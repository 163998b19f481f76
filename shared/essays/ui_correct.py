"""Sửa điểm bài thu hoạch: correct a graded attempt's score or date (the band follows the score, D13), or withdraw
the latest attempt entered by mistake. The grading unit's instance writes it (single writer); a refusal shows next
to its field and changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.core.scope import Caller, units_info, writes_here
from shared.documents.service import visible_document
from shared.domain.formatting import format_date
from shared.essays.schemas import Essay, EssayUpdate
from shared.essays.service import GRADES, essay_out, list_essays
from shared.essays.ui_grading import check_score
from shared.members.service import roster
from shared.ui.forms import GENERAL, Posted
from shared.ui.web import Frame, Page, back_to, render

PATH = "/bai-thu-hoach/{essay_id:uuid}/sua"


def _back(page: Page, essay: Essay) -> Redirect:
    return back_to("/bai-thu-hoach", page, document=essay.document, corrected="true")


async def _context(conn: AsyncConnection, page: Page, essay: Essay) -> dict[str, Any]:
    doc = await visible_document(conn, page.viewer, essay.document, "document")
    named = {m.id: m.full_name for m in await roster(conn, page.viewer)}
    attempts = await list_essays(conn, page.me, document=essay.document, member=essay.member, unit=page.viewer.id)
    units = await units_info(conn, [essay.unit, essay.member_unit])
    writable = page.can_edit and await writes_here(conn, units[essay.unit])
    return {
        "essay": essay,
        "doc": doc,
        "member_name": named.get(essay.member, "(đảng viên không thuộc danh sách giữ tại đây)"),
        "grader": units[essay.unit].name,
        "member_unit": units[essay.member_unit].name,
        "attempts": sorted(attempts, key=lambda e: e.attempt),
        "latest": max(a.attempt for a in attempts) == essay.attempt if attempts else True,
        "writable": writable,
        "form": {"score": essay.score_vi, "graded_on": format_date(essay.graded_on), "rev": str(essay.rev)},
        "errors": {},
        "remove_errors": {},
    }


async def _essay(conn: AsyncConnection, caller: Caller, essay_id: uuid.UUID) -> Essay:
    return essay_out(await GRADES.get(conn, caller, essay_id))


@get(PATH)
async def correct_page(request: Request[Any, Any, State], frame: Frame, essay_id: FromPath[uuid.UUID]) -> Response[Any]:
    """One graded attempt with the member's other attempts, and the form to correct it (D13)."""
    async with request.app.state.db.read() as conn:
        context = await _context(conn, frame, await _essay(conn, frame.me, essay_id))
    return render("essay_correct.html", frame, **context)


@post(PATH, status_code=303)
async def correct(
    request: Request[Any, Any, State], frame: Frame, form: Posted, essay_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Write the corrected score or date as a new rev of the attempt; refused on an older rev (edited meanwhile)."""
    score = form.text("score", required="Nhập điểm, ví dụ 8,5.")
    check_score(form, "score", score)
    graded_on = form.day("graded_on")
    rev = form.text("rev")
    if form.ok and graded_on is not None:
        update = EssayUpdate(rev=int(rev) if rev.isdigit() else msgspec.UNSET, score=score, graded_on=graded_on)
        done = await form.save(lambda conn: GRADES.revise(conn, frame.me, essay_id, update))
        if done:
            return _back(frame, essay_out(done.value))
    async with request.app.state.db.read() as conn:
        context = await _context(conn, frame, await _essay(conn, frame.me, essay_id))
    return form.again("essay_correct.html", frame, context)


@post("/bai-thu-hoach/{essay_id:uuid}/xoa", status_code=303)
async def remove(
    request: Request[Any, Any, State], frame: Frame, form: Posted, essay_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Withdraw the latest attempt entered by mistake (a tombstone that travels up like the grade)."""
    confirmed = form.text("confirm")
    if not confirmed:
        form.errors[GENERAL] = "Hãy đánh dấu ô xác nhận trước khi xóa."
    rev = form.text("rev")
    async with request.app.state.db.read() as conn:
        essay = await _essay(conn, frame.me, essay_id)
        context = await _context(conn, frame, essay)
    if not context["latest"] and confirmed:
        form.errors[GENERAL] = "Chỉ xóa được lần chấm mới nhất; lần trước đó là lịch sử viết lại (D13)."
    if form.ok and await form.save(
        lambda conn: GRADES.delete(conn, frame.me, essay_id, int(rev) if rev.isdigit() else None), form.refused_above
    ):
        return _back(frame, essay)
    return form.again("essay_correct.html", frame, context, prefix="remove_")


PAGES = (correct_page, correct, remove)
