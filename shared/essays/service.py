"""Essay templates (D11) and graded essays (D10, D13): attempts, bands, rewrites, .xlsx grades, open rewrites.

The rules, queries and workflow; each function runs in the caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.audit.actor import as_import
from shared.audit.hook import apply_local
from shared.core.errors import Refusal, RowProblem, conflict, invalid
from shared.core.scope import (
    Caller,
    UnitInfo,
    changes_of,
    check_rev,
    out,
    records,
    revise,
    save,
    unit_in_scope,
    units_info,
    up_select,
    writable_owner,
)
from shared.core.service import RecordKind, RecordService, Shapes, another_live, new_record
from shared.core.xlsx import date_cell, decimal_text, read_rows, refuse, text
from shared.documents.service import visible_document
from shared.domain.consolidation import EssayFigures, GroupEssays
from shared.domain.errors import ScoreError
from shared.domain.formatting import VIETNAM_TIME
from shared.domain.grades import Attempt, Band, band_of, format_score, latest_result, parse_score
from shared.domain.obligations import OBLIGATIONS, is_obliged
from shared.essays.figures import owed_rewrites, subtree_essays
from shared.essays.records import ESSAY_GRADE, ESSAY_TEMPLATE, EssayGradeRecord, EssayTemplateRecord
from shared.essays.schemas import (
    Essay,
    EssayCreate,
    EssaySummary,
    EssayTemplate,
    EssayTemplateCreate,
    EssayTemplateUpdate,
    EssayUpdate,
    GroupOut,
    Rewrite,
)
from shared.members.records import MEMBER, MemberRecord
from shared.members.schemas import ImportResult
from shared.members.service import roster
from shared.sync import store

_TEMPLATE = ("mẫu bài thu hoạch", "essay template")


_ESSAY = ("bài thu hoạch", "essay")


async def _check_template(conn: AsyncConnection, owner: UnitInfo, rec: EssayTemplateRecord) -> EssayTemplateRecord:
    if not rec.title.strip():
        raise invalid("title", "D11", "Thiếu tên mẫu bài thu hoạch.", "The title is empty.")
    questions = [q.strip() for q in rec.questions if q.strip()]
    if not questions:
        raise invalid(
            "questions", "D11", "Mẫu bài thu hoạch cần ít nhất một câu hỏi.", "A template needs at least one question."
        )
    await visible_document(conn, owner, rec.document, "document")
    if await another_live(conn, ESSAY_TEMPLATE, rec, owner=owner.id, document=rec.document):
        raise conflict(
            "document",
            "D11",
            "Cấp này đã có mẫu bài thu hoạch cho văn bản này; hãy sửa mẫu đã có.",
            "This level already has a template for the document; edit it.",
            code="template.duplicate",
        )
    for_whom = rec.for_whom.strip() or f"Đảng viên do {owner.name} triệu tập"
    return msgspec.structs.replace(rec, questions=questions, title=rec.title.strip(), for_whom=for_whom)


TEMPLATES: RecordService[EssayTemplateRecord] = RecordService(
    RecordKind(ESSAY_TEMPLATE, _TEMPLATE, _check_template, down=True, audience_of=lambda data, owner: owner.id),
    Shapes(EssayTemplate, EssayTemplateCreate, EssayTemplateUpdate),
)


def essay_out(rec: EssayGradeRecord) -> Essay:
    band = Band(rec.band)
    return out(
        rec,
        Essay,
        score_vi=format_score(rec.score),
        band_en=band.english,
        rewrite_open=band.rank < Band.AVERAGE.rank,
    )


def _score(value: str | Decimal, field: str = "score") -> Decimal:
    try:
        return parse_score(value)
    except ScoreError as exc:
        raise Refusal.from_domain(exc, field=field, rule="D13") from None


async def _attempts(
    conn: AsyncConnection, grader: UnitInfo, member: uuid.UUID, document: uuid.UUID
) -> list[EssayGradeRecord]:
    table = ESSAY_GRADE.table
    stmt = up_select(ESSAY_GRADE, grader).where(
        table.c.member == member, table.c.document == document, table.c.deleted.is_(False)
    )
    return await records(conn, ESSAY_GRADE, stmt)


def rewrite_refusal(held: Iterable[EssayGradeRecord]) -> Refusal | None:
    """D13: a new attempt is taken only while the latest one is below Trung bình."""
    result = latest_result(Attempt(g.attempt, g.score) for g in held)
    if result is None or result.rewrite_open:
        return None
    return conflict(
        "member",
        "D13",
        f"Bài lần {result.attempt} đạt {result.band} ({format_score(result.score)}): không phải viết lại; "
        "hãy sửa điểm của lần đó nếu chấm nhầm.",
        f"Attempt {result.attempt} is {result.band.english}: no rewrite is owed; correct that attempt's score instead.",
        code="essay.no_rewrite_owed",
    )


async def _member_here(conn: AsyncConnection, grader: UnitInfo, member_id: uuid.UUID) -> MemberRecord | None:
    table = MEMBER.table
    rows = await records(
        conn, MEMBER, up_select(MEMBER, grader).where(table.c.id == member_id, table.c.deleted.is_(False))
    )
    return rows[0] if rows else None


GRADE_COLUMNS = {
    "member": ("Mã đảng viên?", "member"),
    "full_name": ("Họ và tên?", "Họ tên", "full_name"),
    "birth_year": ("Năm sinh?", "birth_year"),
    "score": ("Điểm", "score"),
    "graded_on": ("Ngày chấm?", "graded_on"),
}


def _find_member(
    number: int,
    row: dict[str, object],
    by_id: dict[uuid.UUID, MemberRecord],
    by_name: dict[tuple[str, int], list[MemberRecord]],
    problems: list[RowProblem],
) -> MemberRecord | None:
    code = text(row.get("member"))
    if code:
        try:
            found = by_id.get(uuid.UUID(code))
        except ValueError:
            found = None
        if found is None:
            problems.append(
                RowProblem(number, "member", f"Mã đảng viên «{code}» không có trong danh sách.", "Unknown member id.")
            )
        return found
    name = " ".join(text(row.get("full_name")).split()).casefold()
    year = text(row.get("birth_year"))
    matches = by_name.get((name, int(year)), []) if year.isdigit() else []
    if len(matches) == 1:
        return matches[0]
    problems.append(
        RowProblem(
            number,
            "full_name",
            "Không tìm thấy đảng viên có họ tên và năm sinh này trong danh sách."
            if not matches
            else "Có nhiều đảng viên trùng họ tên và năm sinh; hãy dùng cột Mã đảng viên.",
            "No member with this name and birth year on the roster."
            if not matches
            else "Several members share this name and birth year; use the member id column.",
        )
    )
    return None


async def _grade(conn: AsyncConnection, caller: Caller, data: EssayCreate) -> EssayGradeRecord:
    score = _score(data.score)
    grader = await writable_owner(conn, caller, data.unit or caller.unit.id)
    await visible_document(conn, grader, data.document, "document")
    held = await _member_here(conn, grader, data.member)
    if held is not None:
        member_unit, obligation = held.owner, held.obligation
    else:
        # Above the roster's ceiling: a delegate this level summoned; the grader names the member's unit
        # and no name travels (personal data stays at the roster's unit and its parent).
        if data.member_unit is None:
            raise invalid(
                "member_unit",
                "D13",
                "Đảng viên không có trong danh sách tại đây: cần ghi đơn vị của người được triệu tập.",
                "The member is not on a roster held here: give the delegate's unit.",
            )
        if data.obligation not in OBLIGATIONS:
            raise invalid("obligation", "D12", "Diện đối tượng không hợp lệ.", "Unknown category.")
        member_unit = (await unit_in_scope(conn, caller, data.member_unit)).id
        obligation = data.obligation
    unit = (await units_info(conn, [member_unit])).get(member_unit)
    if unit is None or not grader.covers(unit):
        raise invalid(
            "unit",
            "D13",
            "Cấp triệu tập chấm bài: đơn vị chấm phải là đơn vị của đảng viên hoặc cấp trên.",
            "The summoning level grades: the grading unit must be the member's unit or above it.",
        )
    attempts = await _attempts(conn, grader, data.member, data.document)
    refusal = rewrite_refusal(attempts)
    if refusal is not None:
        raise refusal
    rec = new_record(
        EssayGradeRecord,
        grader.id,
        member=data.member,
        member_unit=member_unit,
        document=data.document,
        attempt=max((a.attempt for a in attempts), default=0) + 1,
        score=score,
        band=str(band_of(score)),
        graded_on=data.graded_on,
        obligation=obligation,
    )
    await save(conn, ESSAY_GRADE, rec)
    return rec


class EssayGrades(RecordService[EssayGradeRecord]):
    """Graded essays: creating one is grading an attempt (`_grade`, D13); a revision corrects a score or date."""

    async def revise(
        self, conn: AsyncConnection, caller: Caller, record_id: uuid.UUID, update: msgspec.Struct
    ) -> EssayGradeRecord:
        """Correct a score or date; the band follows the score (D13)."""
        assert isinstance(update, EssayUpdate)
        held = await self.get(conn, caller, record_id)
        check_rev(update.rev, held)
        changes = changes_of(update, skip=("rev", "score"))
        if isinstance(update.score, str):
            score = _score(update.score)
            changes.update(score=score, band=str(band_of(score)))
        new: EssayGradeRecord = await revise(conn, ESSAY_GRADE, caller, held, changes)
        return new


GRADES = EssayGrades(
    RecordKind(ESSAY_GRADE, _ESSAY, creates=_grade), Shapes(Essay, EssayCreate, EssayUpdate, essay_out)
)


async def grade_essay(conn: AsyncConnection, caller: Caller, data: EssayCreate) -> Essay:
    """Grade a member's essay: the first attempt, or a rewrite while the latest is Yếu (D13)."""
    return essay_out(await GRADES.create(conn, caller, data))


async def list_open_rewrites(
    conn: AsyncConnection, caller: Caller, document: uuid.UUID | None, unit: uuid.UUID | None
) -> list[Rewrite]:
    """Members whose latest attempt is Yếu, so a rewrite is owed, per unit of the subtree (D13)."""
    owed = owed_rewrites(await unit_in_scope(conn, caller, unit), document)
    stmt = owed.order_by(owed.selected_columns.member_unit, owed.selected_columns.graded_on)
    rows = [store.from_row(ESSAY_GRADE, r) for r in await conn.execute(stmt)]
    return [
        Rewrite(r.member, r.member_unit, r.document, r.attempt, r.score, r.band, r.graded_on, r.owner)
        for r in rows
        if isinstance(r, EssayGradeRecord)
    ]


async def essay_summary(
    conn: AsyncConnection, caller: Caller, document: uuid.UUID, unit: uuid.UUID | None
) -> EssaySummary:
    """Participation for a document over a subtree: obliged and encouraged apart (D12), bands by latest attempt."""
    return (await essay_summaries(conn, caller, document, unit))[0]


async def essay_summaries(
    conn: AsyncConnection, caller: Caller, document: uuid.UUID, unit: uuid.UUID | None
) -> tuple[EssaySummary, dict[uuid.UUID, EssaySummary]]:
    """The subtree's summary and each direct child's, counted as the consolidation counts them (essays/figures.py)."""
    viewer = await unit_in_scope(conn, caller, unit)
    await visible_document(conn, viewer, document, "document")
    whole, children, counted = await subtree_essays(conn, viewer, document, datetime.now(VIETNAM_TIME).date())
    held = await conn.scalar(up_select(MEMBER, viewer).where(MEMBER.table.c.deleted.is_(False)).limit(1)) is not None

    def summary(f: EssayFigures) -> EssaySummary:
        def group(g: GroupEssays) -> GroupOut:
            return GroupOut(g.members if counted else None, g.wrote, dict(g.bands), g.rewrites_open)

        return EssaySummary(document, held, group(f.obliged), group(f.encouraged), f.shortfall if counted else None)

    return summary(whole), {child: summary(f) for child, f in children.items()}


async def import_grade_file(
    conn: AsyncConnection,
    caller: Caller,
    content: bytes,
    document: uuid.UUID,
    unit: uuid.UUID | None,
    graded_on: date | None,
    dry_run: bool,
) -> ImportResult:
    """Grades from an .xlsx file, all or nothing: any bad row refuses the file, every problem listed by row (D13)."""
    as_import()  # D27: entries of this write say it came from a file
    grader = await writable_owner(conn, caller, unit or caller.unit.id)
    await visible_document(conn, grader, document, "document")
    members = await roster(conn, grader)
    by_id = {m.id: m for m in members}
    by_name: dict[tuple[str, int], list[MemberRecord]] = {}
    for m in members:
        by_name.setdefault((m.full_name.casefold(), m.birth_year), []).append(m)
    table = ESSAY_GRADE.table
    prior: dict[uuid.UUID, list[EssayGradeRecord]] = {}
    for g in await records(
        conn,
        ESSAY_GRADE,
        up_select(ESSAY_GRADE, grader).where(table.c.document == document, table.c.deleted.is_(False)),
    ):
        prior.setdefault(g.member, []).append(g)
    problems: list[RowProblem] = []
    new: list[EssayGradeRecord] = []
    seen: dict[uuid.UUID, int] = {}
    for number, row in read_rows(content, GRADE_COLUMNS):
        member = _find_member(number, row, by_id, by_name, problems)
        try:
            score = parse_score(decimal_text(row.get("score")))
        except ScoreError as exc:
            problems.append(RowProblem(number, "score", exc.message_vi, exc.message_en))
            score = None
        day = date_cell(row.get("graded_on")) if row.get("graded_on") is not None else graded_on
        if not isinstance(day, date):
            problems.append(
                RowProblem(number, "graded_on", "Thiếu hoặc sai ngày chấm.", "The grading date is missing or invalid.")
            )
        if member is None or score is None or not isinstance(day, date):
            continue
        if member.id in seen:
            problems.append(
                RowProblem(
                    number,
                    "full_name",
                    f"Trùng đảng viên ở dòng {seen[member.id]}.",
                    f"Same member as row {seen[member.id]}.",
                )
            )
            continue
        seen[member.id] = number
        refusal = rewrite_refusal(prior.get(member.id, []))
        if refusal is not None:
            problems.append(RowProblem(number, "score", refusal.problem.message, refusal.problem.message_en))
            continue
        new.append(
            new_record(
                EssayGradeRecord,
                grader.id,
                member=member.id,
                member_unit=member.owner,
                document=document,
                attempt=max((g.attempt for g in prior.get(member.id, [])), default=0) + 1,
                score=score,
                band=str(band_of(score)),
                graded_on=day,
                obligation=member.obligation,
            )
        )
    if problems:
        raise refuse(problems)
    if new and not dry_run:
        await apply_local(conn, ESSAY_GRADE, new)
    return ImportResult(len(new), 0, 0, dry_run)


__all__ = ["is_obliged"]


async def list_templates(
    conn: AsyncConnection, caller: Caller, document: uuid.UUID | None = None, unit: uuid.UUID | None = None
) -> list[EssayTemplate]:
    """Templates of the unit's own level and of the levels above it, and those written in its subtree (D11)."""
    where = [] if document is None else [ESSAY_TEMPLATE.table.c.document == document]
    return [out(r, EssayTemplate) for r in await TEMPLATES.list_all(conn, caller, unit, where=where)]


async def create_essay_template(conn: AsyncConnection, caller: Caller, data: EssayTemplateCreate) -> EssayTemplate:
    """A level's lead agency writes the template for the members it summons (D11)."""
    return out(await TEMPLATES.create(conn, caller, data), EssayTemplate)


async def edit_essay_template(
    conn: AsyncConnection, caller: Caller, template_id: uuid.UUID, data: EssayTemplateUpdate
) -> EssayTemplate:
    return out(await TEMPLATES.revise(conn, caller, template_id, data), EssayTemplate)


async def list_essays(
    conn: AsyncConnection,
    caller: Caller,
    document: uuid.UUID | None = None,
    member: uuid.UUID | None = None,
    unit: uuid.UUID | None = None,
    after: uuid.UUID | None = None,
    limit: int = 200,
) -> list[Essay]:
    """Graded attempts in a unit's subtree (grades travel up to the province)."""
    table = ESSAY_GRADE.table
    where = [c == v for c, v in ((table.c.document, document), (table.c.member, member)) if v is not None]
    return [essay_out(r) for r in await GRADES.list_page(conn, caller, unit, after=after, limit=limit, where=where)]
