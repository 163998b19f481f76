"""Bài thu hoạch: participation and bands per unit (D12, D13), open rewrites, grade entry and .xlsx grade import."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromQuery
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.core.scope import Caller, UnitInfo, down_select, records, subtree_units, units_info, up_select
from shared.documents.records import DOCUMENT, DocumentRecord
from shared.documents.service import visible_documents
from shared.domain.grades import Band
from shared.domain.obligations import OBLIGATION_LABELS_VI, RURAL_CELL_ASSUMPTION_VI
from shared.essays import ui_correct, ui_grading, ui_templates
from shared.essays.schemas import EssayCreate, EssaySummary, Rewrite
from shared.essays.service import essay_summaries, grade_essay, import_grade_file, list_open_rewrites
from shared.essays.ui_grading import check_score
from shared.members.records import MEMBER, MemberRecord
from shared.members.service import roster
from shared.ui.export import xlsx_response
from shared.ui.forms import Posted
from shared.ui.web import Frame, Page, back_to, render

BANDS = [str(b) for b in (Band.GOOD, Band.FAIR, Band.AVERAGE, Band.WEAK)]
ROSTER_CHOICES = 3000
"""Most members offered in the grade form's list; a bigger unit grades through the .xlsx import."""
IMPORT_FIELDS = {
    "member": "Mã đảng viên",
    "full_name": "Họ và tên",
    "birth_year": "Năm sinh",
    "score": "Điểm",
    "graded_on": "Ngày chấm",
    "file": "Tệp",
}


@dataclass(frozen=True, slots=True)
class RewriteRow:
    member: str
    unit: str
    document: str
    attempt: int
    score: Any
    graded_on: date


@dataclass(frozen=True, slots=True)
class UnitSummary:
    unit: UnitInfo
    summary: EssaySummary


async def rewrite_rows(conn: AsyncConnection, viewer: UnitInfo, rewrites: list[Rewrite]) -> list[RewriteRow]:
    """Open rewrites with the member's name where this level holds the roster, else only their unit (privacy)."""
    if not rewrites:
        return []
    members = {r.member for r in rewrites}
    held: list[MemberRecord] = await records(
        conn, MEMBER, up_select(MEMBER, viewer).where(MEMBER.table.c.id.in_(members))
    )
    names = {m.id: f"{m.full_name} ({m.birth_year})" for m in held if not m.deleted}
    docs: list[DocumentRecord] = await records(
        conn, DOCUMENT, down_select(DOCUMENT, viewer).where(DOCUMENT.table.c.id.in_({r.document for r in rewrites}))
    )
    numbers = {d.id: d.number for d in docs}
    units = await units_info(conn, list({r.member_unit for r in rewrites}))
    return [
        RewriteRow(
            names.get(r.member, "Đảng viên được triệu tập (danh sách ở cấp dưới)"),
            units[r.member_unit].name if r.member_unit in units else "—",
            numbers.get(r.document, "—"),
            r.attempt,
            r.score,
            r.graded_on,
        )
        for r in rewrites
    ]


async def _context(
    request: Request[Any, Any, State], caller: Caller, page: Page, document: uuid.UUID | None
) -> dict[str, Any]:
    db = request.app.state.db
    async with db.read() as conn:
        docs: list[DocumentRecord] = sorted(
            await visible_documents(conn, page.viewer), key=lambda d: (d.signed_on, d.number), reverse=True
        )
        children = [u for u in await subtree_units(conn, page.viewer) if u.parent == page.viewer.id]
        members = (await roster(conn, page.viewer))[:ROSTER_CHOICES] if page.can_edit else []
    # By default the newest document already signed: a document dated ahead has nothing to grade yet.
    signed = [d for d in docs if d.signed_on <= date.today()] or docs
    chosen = next((d for d in docs if d.id == document), signed[0] if signed and document is None else None)
    context: dict[str, Any] = {
        "docs": docs,
        "doc": chosen,
        "bands": BANDS,
        "members": sorted(members, key=lambda m: m.full_name),
        "obligation_labels": OBLIGATION_LABELS_VI,
        "assumption": RURAL_CELL_ASSUMPTION_VI,
        "today": date.today(),
        "form": {},
        "errors": {},
        "problems": [],
        "import_errors": {},
        "imported": None,
        "import_fields": IMPORT_FIELDS,
    }
    if chosen is None:
        context.update(own=None, rows=[], rewrites=[], rewrites_total=0)
        return context
    async with db.read() as conn:
        own, by_child = await essay_summaries(conn, caller, chosen.id, page.viewer.id)
        rows = [UnitSummary(u, by_child[u.id]) for u in children if u.id in by_child]
        rewrites = await list_open_rewrites(conn, caller, chosen.id, page.viewer.id)
        context.update(
            own=own,
            rows=rows,
            rewrites=await rewrite_rows(conn, page.viewer, rewrites[:200]),
            rewrites_total=len(rewrites),
        )
    return context


@get("/bai-thu-hoach")
async def essays_page(
    request: Request[Any, Any, State],
    frame: Frame,
    document: FromQuery[uuid.UUID | None] = None,
    imported: FromQuery[int | None] = None,
    graded: FromQuery[bool] = False,
    corrected: FromQuery[bool] = False,
) -> Response[Any]:
    context = await _context(request, frame.me, frame, document)
    context.update(imported=imported, graded=graded, corrected=corrected)
    return render("essays.html", frame, **context)


@post("/bai-thu-hoach/cham", status_code=303)
async def grade(
    request: Request[Any, Any, State], frame: Frame, form: Posted, document: FromQuery[uuid.UUID]
) -> Response[Any]:
    """Grade one essay: the grading unit is the unit being viewed (the level that summoned the member, D13)."""
    member = form.ident("member", required="Chọn đảng viên.")
    score = form.text("score", required="Nhập điểm, ví dụ 8,5.")
    check_score(form, "score", score)
    graded_on = form.day("graded_on")
    if form.ok and member is not None and graded_on is not None:
        data = EssayCreate(member=member, document=document, score=score, graded_on=graded_on, unit=frame.viewer.id)
        if await form.save(lambda conn: grade_essay(conn, frame.me, data)):
            return back_to("/bai-thu-hoach", frame, document=document, graded="true")
    return form.again("essays.html", frame, await _context(request, frame.me, frame, document))


@post("/bai-thu-hoach/nhap", status_code=303)
async def import_grades(
    request: Request[Any, Any, State], frame: Frame, form: Posted, document: FromQuery[uuid.UUID]
) -> Response[Any]:
    """Import a grades workbook, all or nothing; every bad row is listed on the page (D13)."""
    upload = form.file("file")
    graded_on = form.day("graded_on", required=False)
    if form.ok and upload is not None:
        content = await upload.read()
        done = await form.save(
            lambda conn: import_grade_file(conn, frame.me, content, document, frame.viewer.id, graded_on, False),
            form.refused_file,
        )
        if done:
            return back_to("/bai-thu-hoach", frame, document=document, imported=done.value.created)
    context = await _context(request, frame.me, frame, document)
    return form.again("essays.html", frame, context, prefix="import_", problems=form.problems)


@get("/bai-thu-hoach.xlsx")
async def essays_xlsx(
    request: Request[Any, Any, State], frame: Frame, document: FromQuery[uuid.UUID | None] = None
) -> Response[Any]:
    """The page's table as .xlsx: participation and bands per unit for the document (D12, D13)."""
    context = await _context(request, frame.me, frame, document)
    header = ("Đơn vị", "Bắt buộc: số đảng viên", "Bắt buộc: đã viết", "Bắt buộc: chưa viết",
              "Khuyến khích: số đảng viên", "Khuyến khích: đã viết", *BANDS, "Phải viết lại")  # fmt: skip
    named = [(f"{frame.viewer.name} (toàn đơn vị)", context["own"])] if context["own"] else []
    named += [(r.unit.name, r.summary) for r in context["rows"]]
    rows = [
        (
            name,
            s.obliged.members,
            s.obliged.wrote,
            s.shortfall,
            s.encouraged.members,
            s.encouraged.wrote,
            *(s.obliged.bands.get(b, 0) + s.encouraged.bands.get(b, 0) for b in BANDS),
            s.obliged.rewrites_open + s.encouraged.rewrites_open,
        )
        for name, s in named
    ]
    return xlsx_response("bai-thu-hoach.xlsx", "Bài thu hoạch", header, rows)


PAGES = (essays_page, essays_xlsx, grade, import_grades, *ui_grading.PAGES, *ui_templates.PAGES, *ui_correct.PAGES)
