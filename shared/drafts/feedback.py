"""Feedback on a report (D23–D25b): workshops and conferences on a draft, comments on its sections, and the decisions
of the levels above (accept, return for correction, waive). Each function runs in the caller's transaction."""

from __future__ import annotations

import uuid

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.core.errors import conflict, invalid
from shared.core.scope import (
    Caller,
    get_visible,
    out,
    records,
    referred,
    save,
    unit_in_scope,
    units_info,
    writable_owner,
)
from shared.core.service import new_record
from shared.documents.service import visible_document
from shared.drafts.facts import (
    addressed_select,
    report_facts,
    review_kind,
)
from shared.drafts.records import (
    MEETING_KINDS,
    PARTICIPANT_CATEGORIES,
    REPORT_COMMENT,
    REPORT_DECISION,
    REPORT_DRAFT,
    REPORT_MEETING,
    ReportCommentRecord,
    ReportDecisionRecord,
    ReportDraftRecord,
    ReportMeetingRecord,
)
from shared.drafts.schemas import (
    Comment,
    CommentCreate,
    Decision,
    DecisionCreate,
    Meeting,
    MeetingCreate,
)
from shared.drafts.service import held_draft

_DRAFT = ("dự thảo báo cáo", "report draft")


async def list_meetings(conn: AsyncConnection, caller: Caller, draft: uuid.UUID) -> list[Meeting]:
    """Workshops and conferences held on a draft."""
    table = REPORT_MEETING.table
    held = await get_visible(conn, REPORT_DRAFT, caller.unit, draft, down=True, what=_DRAFT)
    stmt = addressed_select(REPORT_MEETING, caller.unit).where(table.c.draft == held.id, table.c.deleted.is_(False))
    return [out(r, Meeting) for r in await records(conn, REPORT_MEETING, stmt.order_by(table.c.held_on))]


async def add_meeting(conn: AsyncConnection, caller: Caller, data: MeetingCreate) -> Meeting:
    """The draft's unit records a workshop or conference held to collect comments, with its participants (D23)."""
    if data.kind not in MEETING_KINDS:
        raise invalid(
            "kind", "D23", "Loại phải là workshop (hội thảo) hoặc conference (hội nghị).", "workshop or conference."
        )
    if not data.title.strip():
        raise invalid("title", "D23", "Thiếu tên hội thảo, hội nghị.", "The title is empty.")
    if not data.participants:
        raise invalid("participants", "D23", "Cần ghi thành phần tham dự.", "List the participants.")
    for i, p in enumerate(data.participants):
        if p.category not in PARTICIPANT_CATEGORIES:
            raise invalid(
                f"participants[{i}].category",
                "D23",
                "Thành phần phải là: leader (lãnh đạo cấp ủy), agency (cơ quan liên quan), expert (chuyên gia), "
                "scientist (nhà khoa học), exemplary (điển hình tiên tiến).",
                f"category must be one of: {', '.join(PARTICIPANT_CATEGORIES)}.",
            )
        if not p.name.strip():
            raise invalid(f"participants[{i}].name", "D23", "Thiếu tên người tham dự.", "The name is empty.")
    draft = await held_draft(conn, caller, data.draft)
    rec = new_record(
        ReportMeetingRecord,
        draft.owner,
        draft=draft.id,
        kind=data.kind,
        title=data.title.strip(),
        held_on=data.held_on,
        place=data.place.strip(),
        participants=[msgspec.structs.replace(p, name=p.name.strip()) for p in data.participants],
    )
    await save(conn, REPORT_MEETING, rec)
    return out(rec, Meeting)


async def list_comments(
    conn: AsyncConnection, caller: Caller, draft: uuid.UUID, version: int | None = None
) -> list[Comment]:
    """Comments on a draft that the caller's unit may see: its own subtree's and those addressed to it (D4)."""
    table = REPORT_COMMENT.table
    held = await get_visible(conn, REPORT_DRAFT, caller.unit, draft, down=True, what=_DRAFT)
    stmt = addressed_select(REPORT_COMMENT, caller.unit).where(table.c.draft == held.id, table.c.deleted.is_(False))
    if version is not None:
        stmt = stmt.where(table.c.version == version)
    rows = await records(conn, REPORT_COMMENT, stmt.order_by(table.c.version, table.c.section, table.c.id))
    return [out(r, Comment) for r in rows]


async def add_comment(conn: AsyncConnection, caller: Caller, data: CommentCreate) -> Comment:
    """Comment on a section of a draft as the caller's unit (D23); it reaches the draft's unit by sync."""
    if not data.text.strip():
        raise invalid("text", "D24", "Góp ý trống.", "The comment is empty.")
    owner = await writable_owner(conn, caller, data.unit or caller.unit.id)
    unknown = invalid(
        "draft", "D23", "Dự thảo không có hoặc đơn vị này không được xem.", "No such draft visible to this unit."
    )
    draft: ReportDraftRecord = await referred(conn, REPORT_DRAFT, owner, data.draft, unknown, down=True)
    number = data.version if data.version is not None else draft.versions[-1].number
    version = next((v for v in draft.versions if v.number == number), None)
    if version is None:
        raise invalid("version", "D24", f"Không có phiên bản {number}.", f"No version {number}.")
    if data.section not in {s.key for s in version.sections}:
        raise invalid(
            "section",
            "D24",
            f"Phiên bản {number} không có mục «{data.section}».",
            f"Version {number} has no section «{data.section}».",
        )
    if data.meeting is not None:
        meeting = (
            await conn.execute(
                select(REPORT_MEETING.table.c.id).where(
                    REPORT_MEETING.table.c.id == data.meeting, REPORT_MEETING.table.c.draft == draft.id
                )
            )
        ).first()
        if meeting is None:
            raise invalid(
                "meeting", "D23", "Hội thảo, hội nghị không thuộc dự thảo này.", "No such meeting on the draft."
            )
    draft_unit = (await units_info(conn, [draft.owner]))[draft.owner]
    # Addressed to the draft's unit only when it lies below the commenter; from below, it travels up anyway.
    below = owner.covers(draft_unit) and draft_unit.id != owner.id
    rec = new_record(
        ReportCommentRecord,
        owner.id,
        draft_unit.id if below else None,
        draft=draft.id,
        version=number,
        section=data.section,
        text=data.text.strip(),
        commenter=data.commenter.strip() or owner.name,
        meeting=data.meeting,
        made_on=data.made_on,
    )
    await save(conn, REPORT_COMMENT, rec)
    return out(rec, Comment)


async def list_decisions(
    conn: AsyncConnection,
    caller: Caller,
    document: uuid.UUID | None = None,
    subject_unit: uuid.UUID | None = None,
) -> list[Decision]:
    """Decisions made in the caller's subtree, or about its subtree by the levels above."""
    table = REPORT_DECISION.table
    stmt = addressed_select(REPORT_DECISION, caller.unit).where(table.c.deleted.is_(False))
    if document is not None:
        stmt = stmt.where(table.c.document == document)
    if subject_unit is not None:
        stmt = stmt.where(table.c.subject_unit == subject_unit)
    rows = await records(conn, REPORT_DECISION, stmt.order_by(table.c.id).limit(1000))
    return [out(r, Decision) for r in rows]


async def decide(conn: AsyncConnection, caller: Caller, data: DecisionCreate) -> Decision:
    """A higher level accepts a lower unit's report, returns it for correction, or waives it (D25b).

    The lower unit's draft is never edited: this decision is the higher level's own record, addressed to it.
    """
    kind = review_kind(data.kind)
    if data.action not in ("accept", "return", "waive"):
        raise invalid(
            "action",
            "D25b",
            "Quyết định phải là accept (tiếp nhận), return (trả lại để sửa) hoặc waive (miễn).",
            "action must be accept, return or waive.",
        )
    if data.action in ("return", "waive") and not data.reason.strip():
        raise invalid(
            "reason",
            "D25b",
            "Trả lại hoặc miễn báo cáo phải ghi rõ lý do.",
            "Returning or waiving a report needs a reason.",
        )
    if data.correct_by is not None and data.correct_by < data.decided_on:
        raise invalid("correct_by", "D25b", "Hạn sửa trước ngày trả lại.", "The correction is due before the return.")
    owner = await writable_owner(conn, caller, data.unit or caller.unit.id)
    subject = await unit_in_scope(conn, caller, data.subject_unit)
    if subject.id == owner.id or not owner.covers(subject):
        raise invalid(
            "subject_unit",
            "D25b",
            "Chỉ cấp trên quyết định về báo cáo của đơn vị cấp dưới.",
            "Only a level above decides on a lower unit's report.",
        )
    if data.action == "waive" and subject.parent != owner.id:
        raise invalid(
            "subject_unit",
            "D25b",
            "Chỉ cấp trên trực tiếp miễn báo cáo của đơn vị cấp dưới khi thông qua báo cáo của mình.",
            "Only the level directly above waives a unit's report, to approve its own.",
        )
    doc = await visible_document(conn, subject, data.document, "document")
    (_, facts, draft), *_ = await report_facts(conn, subject, doc, kind, [subject])
    if data.action in ("accept", "return") and (draft is None or not facts.received):
        raise conflict(
            "subject_unit",
            "D25b",
            "Báo cáo của cấp dưới chưa được gửi lên (hoặc đang chờ sửa): chưa thể tiếp nhận hay trả lại.",
            "The lower unit's report has not been sent up (or awaits correction): nothing to accept or return.",
            code="report.not_in",
        )
    if data.action == "waive" and (facts.received or facts.waived):
        raise conflict(
            "subject_unit",
            "D25b",
            "Báo cáo đã đến hoặc đã được miễn.",
            "The report is already in, or already waived.",
            code="report.waive_needless",
        )
    rec = new_record(
        ReportDecisionRecord,
        owner.id,
        subject.id,
        subject_unit=subject.id,
        document=doc.id,
        kind=kind,
        action=data.action,
        draft=draft.id if draft is not None else None,
        version=facts.sent_version if data.action != "waive" else None,
        reason=data.reason.strip(),
        decided_on=data.decided_on,
        correct_by=data.correct_by,
    )
    await save(conn, REPORT_DECISION, rec)
    return out(rec, Decision)
