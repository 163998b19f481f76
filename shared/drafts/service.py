"""The report workflow (D23–D25b): a unit's draft and its versions, workshops and conferences, comments, submission,
approval and issuance, and the decisions of the levels above. Each function runs in the caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.core.errors import conflict, invalid
from shared.core.scope import (
    Caller,
    UnitInfo,
    check_rev,
    down_select,
    get_visible,
    out,
    page,
    records,
    revise,
    save,
    unit_in_scope,
    units_info,
    writable_owner,
)
from shared.core.service import new_record
from shared.documents.service import visible_document
from shared.domain.deadlines import issuance_deadline
from shared.domain.reports import ReportFacts
from shared.drafts.facts import (
    decisions_about,
    drafts_of,
    due_by_depth,
    expected_units,
    facts_of,
    report_facts,
    review_kind,
)
from shared.drafts.records import (
    REPORT_DRAFT,
    DraftVersion,
    Issuance,
    ReportDraftRecord,
    Section,
)
from shared.drafts.schemas import (
    Approve,
    Draft,
    DraftCreate,
    Issue,
    SectionIn,
    Submit,
    VersionCreate,
)
from shared.programmes.service import doc_number

_DRAFT = ("dự thảo báo cáo", "report draft")


def _sections(given: Sequence[SectionIn]) -> list[Section]:
    if not given:
        raise invalid("sections", "D24", "Dự thảo cần ít nhất một mục.", "A draft needs at least one section.")
    keys: set[str] = set()
    out_ = []
    for i, s in enumerate(given):
        key = s.key.strip()
        if not key or key in keys:
            raise invalid(
                f"sections[{i}].key",
                "D24",
                f"Mã mục «{s.key}» trống hoặc trùng: góp ý dẫn chiếu theo mã mục.",
                f"Section key «{s.key}» is empty or repeated: comments refer to it.",
            )
        if not s.heading.strip():
            raise invalid(f"sections[{i}].heading", "D24", "Thiếu tiêu đề mục.", "The heading is empty.")
        keys.add(key)
        out_.append(Section(key, s.heading.strip(), s.text))
    return out_


DueCache = dict[tuple[uuid.UUID, str], dict[int, date]]


async def draft_out(
    conn: AsyncConnection, viewer: UnitInfo, rec: ReportDraftRecord, today: date, cache: DueCache | None = None
) -> Draft:
    """A draft with its due date, deadlines, late flags and state as the levels above have decided it.

    `cache` keeps each review's due dates by depth across the drafts of one list; overrides come from above, so
    the first draft's unit holds the same ones as the others.
    """
    owner = (await units_info(conn, [rec.owner]))[rec.owner]
    key = (rec.document, rec.kind)
    steps = cache.get(key) if cache is not None else None
    if steps is None:
        doc = await visible_document(conn, owner, rec.document, "document")
        steps = await due_by_depth(conn, owner, doc, rec.kind)
        if cache is not None:
            cache[key] = steps
    decisions = (await decisions_about(conn, [owner.id], rec.document, rec.kind)).get(owner.id, [])
    facts = facts_of(owner, steps.get(owner.depth, min(steps.values())), rec, decisions)
    return out(
        rec,
        Draft,
        due=facts.due,
        issuance_deadline=issuance_deadline(rec.approved_on) if rec.approved_on else None,
        issuance_late=facts.issuance_late(today),
        state=facts.state.name.lower(),
        state_vi=facts.state.value,
        timeliness_vi=facts.timeliness(today).value,
        returned_version=facts.returned_version,
        correct_by=facts.correct_by if facts.return_open else None,
    )


async def held_draft(conn: AsyncConnection, caller: Caller, draft_id: uuid.UUID) -> ReportDraftRecord:
    rec: ReportDraftRecord = await get_visible(conn, REPORT_DRAFT, caller.unit, draft_id, down=True, what=_DRAFT)
    await writable_owner(conn, caller, rec.owner)
    return rec


async def _held_at(
    conn: AsyncConnection, caller: Caller, draft_id: uuid.UUID, rev: int | msgspec.UnsetType | None
) -> ReportDraftRecord:
    """The draft a workflow step writes: held by the caller's subtree, at the revision the form was built on."""
    rec = await held_draft(conn, caller, draft_id)
    check_rev(rev, rec)
    return rec


async def _unsent_facts(conn: AsyncConnection, rec: ReportDraftRecord) -> ReportFacts:
    """The draft's facts, refused while its report is with the level above (D25b: it changes only once returned)."""
    owner = (await units_info(conn, [rec.owner]))[rec.owner]
    decisions = (await decisions_about(conn, [owner.id], rec.document, rec.kind)).get(owner.id, [])
    facts = facts_of(owner, date.max, rec, decisions)
    if facts.received:
        raise conflict(
            "version",
            "D25b",
            f"Báo cáo (phiên bản {facts.sent_version}) đã gửi lên cấp trên; chỉ sửa được khi cấp trên trả lại.",
            f"The report (version {facts.sent_version}) is with the level above; it can change only once returned.",
            code="report.sent",
        )
    return facts


async def list_drafts(
    conn: AsyncConnection,
    caller: Caller,
    *,
    document: uuid.UUID | None = None,
    kind: str | None = None,
    unit: uuid.UUID | None = None,
    after: uuid.UUID | None = None,
    limit: int = 100,
) -> list[Draft]:
    """Drafts of a unit's subtree and of the levels above it (sent down for comments, D23)."""
    table = REPORT_DRAFT.table
    viewer = await unit_in_scope(conn, caller, unit)
    stmt = down_select(REPORT_DRAFT, viewer)
    if document is not None:
        stmt = stmt.where(table.c.document == document)
    if kind is not None:
        stmt = stmt.where(table.c.kind == review_kind(kind))
    rows: list[ReportDraftRecord] = await records(conn, REPORT_DRAFT, page(stmt, REPORT_DRAFT, after, limit))
    cache: DueCache = {}
    return [await draft_out(conn, viewer, r, date.today(), cache) for r in rows]


async def create_draft(conn: AsyncConnection, caller: Caller, data: DraftCreate) -> Draft:
    """Start a unit's review report with its first version (D24)."""
    kind = review_kind(data.kind)
    if not data.title.strip():
        raise invalid("title", "D24", "Thiếu tên báo cáo.", "The title is empty.")
    sections = _sections(data.sections)
    owner = await writable_owner(conn, caller, data.unit or caller.unit.id)
    doc = await visible_document(conn, owner, data.document, "document")
    if (await drafts_of(conn, [owner.id], doc.id, kind)).get(owner.id) is not None:
        raise conflict(
            "document",
            "D24",
            "Đơn vị đã có dự thảo báo cáo cho đợt sơ kết/tổng kết này; hãy thêm phiên bản mới.",
            "The unit already has a draft for this review; add a version to it.",
            code="report.duplicate",
        )
    rec = new_record(
        ReportDraftRecord,
        owner.id,
        owner.id,
        document=doc.id,
        kind=kind,
        title=data.title.strip(),
        versions=[DraftVersion(1, data.written_on, sections, data.note.strip())],
    )
    await save(conn, REPORT_DRAFT, rec)
    return await draft_out(conn, owner, rec, date.today())


async def get_draft(conn: AsyncConnection, caller: Caller, draft_id: uuid.UUID, today: date | None = None) -> Draft:
    """A draft with every version (D24), its due date, issuance deadline and late flags (D25, D25a)."""
    rec = await get_visible(conn, REPORT_DRAFT, caller.unit, draft_id, down=True, what=_DRAFT)
    return await draft_out(conn, caller.unit, rec, today or date.today())


async def add_version(conn: AsyncConnection, caller: Caller, draft_id: uuid.UUID, data: VersionCreate) -> Draft:
    """A new version: comments taken in (D24), or a correction asked for by the level above (D25b)."""
    sections = _sections(data.sections)
    rec = await _held_at(conn, caller, draft_id, data.rev)
    await _unsent_facts(conn, rec)
    last = rec.versions[-1]
    if data.written_on < last.written_on:
        raise invalid(
            "written_on",
            "D24",
            f"Phiên bản mới không thể ghi ngày trước phiên bản {last.number} ({last.written_on:%d/%m/%Y}).",
            f"A new version cannot be dated before version {last.number} ({last.written_on}).",
        )
    version = DraftVersion(last.number + 1, data.written_on, sections, data.note.strip())
    new = await revise(conn, REPORT_DRAFT, caller, rec, {"versions": [*rec.versions, version]})
    return await draft_out(conn, caller.unit, new, date.today())


async def submit_draft(conn: AsyncConnection, caller: Caller, draft_id: uuid.UUID, data: Submit) -> Draft:
    """The lead agency submits the latest version to its committee (D24)."""
    rec = await _held_at(conn, caller, draft_id, data.rev)
    await _unsent_facts(conn, rec)
    if data.submitted_on < rec.versions[-1].written_on:
        raise invalid(
            "submitted_on",
            "D24",
            # The date to compare with is on another part of the page: say it (a new office worker looks for it).
            f"Ngày trình cấp ủy trước ngày của phiên bản được trình (phiên bản {rec.versions[-1].number}, "
            f"ngày {rec.versions[-1].written_on:%d/%m/%Y}).",
            "Submitted before the version submitted was written.",
        )
    changes = {"submitted_on": data.submitted_on, "submitted_version": rec.versions[-1].number}
    new = await revise(conn, REPORT_DRAFT, caller, rec, changes)
    return await draft_out(conn, caller.unit, new, date.today())


async def approve_draft(conn: AsyncConnection, caller: Caller, draft_id: uuid.UUID, data: Approve) -> Draft:
    """The committee approves its report (D24): only once its lower units' reports are in, or waived (D25b)."""
    rec = await _held_at(conn, caller, draft_id, data.rev)
    if rec.submitted_on is None:
        raise invalid(
            "approved_on",
            "D24",
            "Dự thảo chưa trình cấp ủy.",
            "The draft has not been submitted to the committee.",
        )
    if data.approved_on < rec.submitted_on:
        raise invalid("approved_on", "D24", "Ngày thông qua trước ngày trình.", "Approved before it was submitted.")
    await _unsent_facts(conn, rec)
    owner = (await units_info(conn, [rec.owner]))[rec.owner]
    doc = await visible_document(conn, owner, rec.document, "document")
    children = [u for u in await expected_units(conn, owner, doc) if u.parent == owner.id]
    missing = [
        u for u, f, _ in await report_facts(conn, owner, doc, rec.kind, children) if not (f.received or f.waived)
    ]
    if missing:
        codes = ", ".join(u.code for u in missing[:20]) + (" ..." if len(missing) > 20 else "")
        raise conflict(
            "approved_on",
            "D25b",
            f"Chưa nhận đủ báo cáo của cấp dưới ({len(missing)}: {codes}); cấp ủy chỉ thông qua báo cáo của "
            "cấp mình khi báo cáo cấp dưới đã đến hoặc được miễn (có lý do).",
            f"Reports of lower units are missing ({len(missing)}: {codes}); a level approves its own only "
            "once they are in or waived with a reason.",
            code="report.lower_missing",
        )
    changes = {"approved_on": data.approved_on, "approved_version": rec.versions[-1].number}
    new = await revise(conn, REPORT_DRAFT, caller, rec, changes)
    return await draft_out(conn, caller.unit, new, data.approved_on)


async def issue_draft(conn: AsyncConnection, caller: Caller, draft_id: uuid.UUID, data: Issue) -> Draft:
    """Send the finished report up (D25: within 10 days of approval, else flagged late); after a return, send
    the corrected, later version (D25b)."""
    number = doc_number(data.report_number, "report_number")
    rec = await _held_at(conn, caller, draft_id, data.rev)
    if rec.approved_on is None:
        raise invalid(
            "issued_on",
            "D25",
            "Báo cáo chưa được cấp ủy thông qua thì chưa ban hành.",
            "The committee has not approved the report.",
        )
    if data.issued_on < rec.approved_on:
        raise invalid(
            "issued_on",
            "D25",
            "Ngày trình ban hành không thể trước ngày cấp ủy thông qua.",
            "A report cannot be issued before the committee approved it.",
        )
    facts = await _unsent_facts(conn, rec)
    latest = rec.versions[-1].number
    if facts.returned_version is not None and latest <= facts.returned_version:
        raise conflict(
            "version",
            "D25b",
            f"Cấp trên đã trả lại phiên bản {facts.returned_version}: hãy thêm phiên bản đã sửa rồi gửi lại.",
            f"Version {facts.returned_version} was returned: add a corrected version, then send it.",
            code="report.not_corrected",
        )
    issuances = [*rec.issuances, Issuance(latest, data.issued_on, number)]
    new = await revise(conn, REPORT_DRAFT, caller, rec, {"issuances": issuances})
    return await draft_out(conn, caller.unit, new, data.issued_on)
