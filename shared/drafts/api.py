"""Review report drafts (D23-D25b): versions, workshops and conferences, comments, submission, approval, issuance,
decisions of the levels above (accept, return for correction, waive), and completeness per level and unit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

import msgspec
from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy import Select, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from shared.calendar.api import KIND_BY_NAME, REVIEWING_KINDS, document_milestones
from shared.core.errors import Refusal, invalid
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
    subtree_units,
    unit_in_scope,
    units_info,
    writable_owner,
)
from shared.db.engine import Database
from shared.documents.api import visible_document
from shared.documents.records import DocumentRecord
from shared.domain.deadlines import issuance_deadline
from shared.domain.reports import ASSUMPTIONS_VI, LevelCount, ReportFacts, completeness, correction_due
from shared.drafts.records import (
    MEETING_KINDS,
    PARTICIPANT_CATEGORIES,
    REPORT_COMMENT,
    REPORT_DECISION,
    REPORT_DRAFT,
    REPORT_MEETING,
    DraftVersion,
    Issuance,
    Participant,
    ReportCommentRecord,
    ReportDecisionRecord,
    ReportDraftRecord,
    ReportMeetingRecord,
    Section,
)
from shared.ids import new_id
from shared.programmes.service import doc_number
from shared.sync.registry import RecordType
from shared.sync.tables import UnitRow

_DRAFT = ("dự thảo báo cáo", "report draft")


def review_kind(kind: str, field: str = "kind") -> str:
    if kind not in KIND_BY_NAME:
        raise invalid(
            field,
            "D16",
            f"Loại báo cáo «{kind}» không hợp lệ; chọn preliminary (sơ kết) hoặc final (tổng kết).",
            f"Unknown review «{kind}»; choose preliminary or final.",
        )
    return kind


def addressed_select(rt: RecordType, viewer: UnitInfo) -> Select[object]:
    """Rows owned in the viewer's subtree, or addressed to the viewer, an ancestor or a unit below it (D4).

    Comments and decisions from above name the unit they concern as their audience; the viewer sees those about
    its subtree, never a sibling's.
    """
    table = rt.table
    owner = aliased(UnitRow.__table__, name="ow")
    aud = aliased(UnitRow.__table__, name="au")
    return (
        select(*[table.c[n] for n in rt.columns])
        .join(owner, owner.c.id == table.c.owner)
        .outerjoin(aud, aud.c.id == table.c.audience)
        .where(
            or_(
                owner.c.path.startswith(viewer.path, autoescape=True),
                literal(viewer.path).startswith(aud.c.path),
                aud.c.path.startswith(viewer.path, autoescape=True),
            )
        )
    )


# Facts of expected reports, shared by approval (D25b), completeness and what-is-due (D27).


async def reporting_units(conn: AsyncConnection, viewer: UnitInfo) -> list[UnitInfo]:
    """Committees and base organisations of the viewer's subtree outside the armed-forces branch (D3, D21)."""
    armed = [r.path for r in await conn.execute(select(UnitRow.path).where(UnitRow.armed_forces.is_(True)))]
    return [
        u
        for u in await subtree_units(conn, viewer)
        if u.kind in REVIEWING_KINDS and not any(u.path.startswith(p) for p in armed)
    ]


async def expected_units(
    conn: AsyncConnection, viewer: UnitInfo, doc: DocumentRecord, among: Sequence[UnitInfo] | None = None
) -> list[UnitInfo]:
    """Units of the viewer's subtree expected to report on a document's review: those of `reporting_units` that
    the document applies to."""
    everyone = among if among is not None else await reporting_units(conn, viewer)
    owner = (await units_info(conn, [doc.owner])).get(doc.owner)
    targets = list((await units_info(conn, list(doc.applies_to))).values()) if doc.applies_to else []
    out_: list[UnitInfo] = []
    for u in everyone:
        if owner is not None and not owner.covers(u) and not u.covers(owner):
            continue
        if targets and not any(t.covers(u) or u.covers(t) for t in targets):
            continue
        out_.append(u)
    return out_


async def due_by_depth(conn: AsyncConnection, viewer: UnitInfo, doc: DocumentRecord, kind: str) -> dict[int, date]:
    """Each depth's due date for a review, cascaded down from the level that issued the document (D25a)."""
    milestones = await document_milestones(conn, viewer, [doc], date.today())
    m = next(m for m in milestones if m.kind == kind)
    steps = {s.depth: s.due for s in m.steps}
    steps.setdefault(viewer.depth, m.unit_due)
    return steps


async def drafts_of(
    conn: AsyncConnection, owners: Sequence[uuid.UUID], document: uuid.UUID, kind: str
) -> dict[uuid.UUID, ReportDraftRecord]:
    table = REPORT_DRAFT.table
    found: dict[uuid.UUID, ReportDraftRecord] = {}
    for i in range(0, len(owners), 500):
        stmt = select(*[table.c[n] for n in REPORT_DRAFT.columns]).where(
            table.c.owner.in_(owners[i : i + 500]),
            table.c.document == document,
            table.c.kind == kind,
            table.c.deleted.is_(False),
        )
        for rec in await records(conn, REPORT_DRAFT, stmt):
            found[rec.owner] = rec
    return found


async def decisions_about(
    conn: AsyncConnection, subjects: Sequence[uuid.UUID], document: uuid.UUID, kind: str
) -> dict[uuid.UUID, list[ReportDecisionRecord]]:
    table = REPORT_DECISION.table
    found: dict[uuid.UUID, list[ReportDecisionRecord]] = {}
    for i in range(0, len(subjects), 500):
        stmt = select(*[table.c[n] for n in REPORT_DECISION.columns]).where(
            table.c.subject_unit.in_(subjects[i : i + 500]),
            table.c.document == document,
            table.c.kind == kind,
            table.c.deleted.is_(False),
        )
        for rec in await records(conn, REPORT_DECISION, stmt):
            found.setdefault(rec.subject_unit, []).append(rec)
    return found


def facts_of(
    unit: UnitInfo, due: date, draft: ReportDraftRecord | None, decisions: Sequence[ReportDecisionRecord]
) -> ReportFacts:
    returns = [d for d in decisions if d.action == "return" and d.version is not None]
    last_return = max(returns, key=lambda d: d.version or 0, default=None)
    accepted = [d.version for d in decisions if d.action == "accept" and d.version is not None]
    issuances = draft.issuances if draft is not None else []
    return ReportFacts(
        unit=unit.id,
        depth=unit.depth,
        due=due,
        versions=len(draft.versions) if draft else 0,
        submitted_on=draft.submitted_on if draft else None,
        approved_on=draft.approved_on if draft else None,
        sent_version=issuances[-1].version if issuances else None,
        first_sent_on=issuances[0].issued_on if issuances else None,
        last_sent_on=issuances[-1].issued_on if issuances else None,
        returned_version=last_return.version if last_return else None,
        correct_by=correction_due(last_return.decided_on, last_return.correct_by) if last_return else None,
        accepted_version=max(accepted, default=None),
        waived=any(d.action == "waive" for d in decisions),
    )


async def report_facts(
    conn: AsyncConnection, viewer: UnitInfo, doc: DocumentRecord, kind: str, units: Sequence[UnitInfo]
) -> list[tuple[UnitInfo, ReportFacts, ReportDraftRecord | None]]:
    steps = await due_by_depth(conn, viewer, doc, kind)
    ids = [u.id for u in units]
    drafts = await drafts_of(conn, ids, doc.id, kind)
    decisions = await decisions_about(conn, ids, doc.id, kind)
    fallback = min(steps.values()) if steps else date.today()
    return [
        (u, facts_of(u, steps.get(u.depth, fallback), drafts.get(u.id), decisions.get(u.id, [])), drafts.get(u.id))
        for u in units
    ]


# The API structs.


class SectionIn(msgspec.Struct, frozen=True):
    key: str
    heading: str
    text: str


class Draft(msgspec.Struct, frozen=True):
    id: uuid.UUID
    unit: uuid.UUID
    """The unit whose review report it is; it reaches that unit's subtree and travels up to the province."""
    rev: int
    document: uuid.UUID
    kind: str
    title: str
    versions: list[DraftVersion]
    submitted_on: date | None
    submitted_version: int | None
    approved_on: date | None
    approved_version: int | None
    issuances: list[Issuance]
    due: date | None = None
    """The unit's due date for this review, cascaded down the tree (D25a)."""
    issuance_deadline: date | None = None
    """D25: approval date + 10 days."""
    issuance_late: bool = False
    state: str = ""
    state_vi: str = ""
    timeliness_vi: str = ""
    returned_version: int | None = None
    correct_by: date | None = None


class DraftCreate(msgspec.Struct, frozen=True):
    document: uuid.UUID
    kind: str
    """preliminary (sơ kết) or final (tổng kết)."""
    title: str
    sections: list[SectionIn]
    written_on: date
    note: str = ""
    unit: uuid.UUID | None = None


class VersionCreate(msgspec.Struct, frozen=True):
    sections: list[SectionIn]
    written_on: date
    note: str = ""
    rev: int | msgspec.UnsetType = msgspec.UNSET


class Submit(msgspec.Struct, frozen=True):
    submitted_on: date
    rev: int | msgspec.UnsetType = msgspec.UNSET


class Approve(msgspec.Struct, frozen=True):
    approved_on: date
    rev: int | msgspec.UnsetType = msgspec.UNSET


class Issue(msgspec.Struct, frozen=True):
    issued_on: date
    report_number: str
    """The report's number, `12-BC/HU` (D5a)."""
    rev: int | msgspec.UnsetType = msgspec.UNSET


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


async def _held_draft(conn: AsyncConnection, caller: Caller, draft_id: uuid.UUID) -> ReportDraftRecord:
    rec: ReportDraftRecord = await get_visible(conn, REPORT_DRAFT, caller.unit, draft_id, down=True, what=_DRAFT)
    await writable_owner(conn, caller, rec.owner)
    return rec


def _already_in(rec: ReportDraftRecord, facts: ReportFacts) -> Refusal:
    return Refusal(
        409,
        "report.sent",
        f"Báo cáo (phiên bản {facts.sent_version}) đã gửi lên cấp trên; chỉ sửa được khi cấp trên trả lại.",
        f"The report (version {facts.sent_version}) is with the level above; it can change only once returned.",
        field="version",
        rule="D25b",
    )


async def _facts_for(conn: AsyncConnection, rec: ReportDraftRecord) -> ReportFacts:
    owner = (await units_info(conn, [rec.owner]))[rec.owner]
    decisions = (await decisions_about(conn, [owner.id], rec.document, rec.kind)).get(owner.id, [])
    return facts_of(owner, date.max, rec, decisions)


class DraftController(Controller):
    path = "/report-drafts"
    tags = ["review reports"]  # noqa: RUF012

    @get("/")
    async def list_drafts(
        self,
        state: State,
        caller: NamedDependency[Caller],
        document: FromQuery[uuid.UUID | None] = None,
        kind: FromQuery[str | None] = None,
        unit: FromQuery[uuid.UUID | None] = None,
        after: FromQuery[uuid.UUID | None] = None,
        limit: FromQuery[int] = 100,
    ) -> list[Draft]:
        """Drafts of a unit's subtree and of the levels above it (sent down for comments, D23)."""
        db: Database = state.db
        table = REPORT_DRAFT.table
        async with db.read() as conn:
            viewer = await unit_in_scope(conn, caller, unit)
            stmt = down_select(REPORT_DRAFT, viewer)
            if document is not None:
                stmt = stmt.where(table.c.document == document)
            if kind is not None:
                stmt = stmt.where(table.c.kind == review_kind(kind))
            rows: list[ReportDraftRecord] = await records(conn, REPORT_DRAFT, page(stmt, REPORT_DRAFT, after, limit))
            cache: DueCache = {}
            return [await draft_out(conn, viewer, r, date.today(), cache) for r in rows]

    @post("/")
    async def create(self, state: State, caller: NamedDependency[Caller], data: JSONBody[DraftCreate]) -> Draft:
        """Start a unit's review report with its first version (D24)."""
        kind = review_kind(data.kind)
        if not data.title.strip():
            raise invalid("title", "D24", "Thiếu tên báo cáo.", "The title is empty.")
        sections = _sections(data.sections)
        db: Database = state.db
        async with db.write() as conn:
            owner = await writable_owner(conn, caller, data.unit or caller.unit.id)
            doc = await visible_document(conn, owner, data.document, "document")
            if (await drafts_of(conn, [owner.id], doc.id, kind)).get(owner.id) is not None:
                raise Refusal(
                    409,
                    "report.duplicate",
                    "Đơn vị đã có dự thảo báo cáo cho đợt sơ kết/tổng kết này; hãy thêm phiên bản mới.",
                    "The unit already has a draft for this review; add a version to it.",
                    field="document",
                    rule="D24",
                )
            rec = ReportDraftRecord(
                id=new_id(),
                owner=owner.id,
                audience=owner.id,
                rev=1,
                deleted=False,
                document=doc.id,
                kind=kind,
                title=data.title.strip(),
                versions=[DraftVersion(1, data.written_on, sections, data.note.strip())],
            )
            await save(conn, REPORT_DRAFT, rec)
            return await draft_out(conn, owner, rec, date.today())

    @get("/{draft_id:uuid}")
    async def get_draft(
        self,
        state: State,
        caller: NamedDependency[Caller],
        draft_id: FromPath[uuid.UUID],
        today: FromQuery[date | None] = None,
    ) -> Draft:
        """A draft with every version (D24), its due date, issuance deadline and late flags (D25, D25a)."""
        db: Database = state.db
        async with db.read() as conn:
            rec = await get_visible(conn, REPORT_DRAFT, caller.unit, draft_id, down=True, what=_DRAFT)
            return await draft_out(conn, caller.unit, rec, today or date.today())

    @post("/{draft_id:uuid}/versions", status_code=200)
    async def add_version(
        self,
        state: State,
        caller: NamedDependency[Caller],
        draft_id: FromPath[uuid.UUID],
        data: JSONBody[VersionCreate],
    ) -> Draft:
        """A new version: comments taken in (D24), or a correction asked for by the level above (D25b)."""
        sections = _sections(data.sections)
        db: Database = state.db
        async with db.write() as conn:
            rec = await _held_draft(conn, caller, draft_id)
            check_rev(data.rev, rec)
            facts = await _facts_for(conn, rec)
            if facts.received:
                raise _already_in(rec, facts)
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

    @post("/{draft_id:uuid}/submit", status_code=200)
    async def submit(
        self, state: State, caller: NamedDependency[Caller], draft_id: FromPath[uuid.UUID], data: JSONBody[Submit]
    ) -> Draft:
        """The lead agency submits the latest version to its committee (D24)."""
        db: Database = state.db
        async with db.write() as conn:
            rec = await _held_draft(conn, caller, draft_id)
            check_rev(data.rev, rec)
            facts = await _facts_for(conn, rec)
            if facts.received:
                raise _already_in(rec, facts)
            if data.submitted_on < rec.versions[-1].written_on:
                raise invalid(
                    "submitted_on",
                    "D24",
                    "Ngày trình cấp ủy trước ngày của phiên bản được trình.",
                    "Submitted before the version submitted was written.",
                )
            changes = {"submitted_on": data.submitted_on, "submitted_version": rec.versions[-1].number}
            new = await revise(conn, REPORT_DRAFT, caller, rec, changes)
            return await draft_out(conn, caller.unit, new, date.today())

    @post("/{draft_id:uuid}/approve", status_code=200, opt={"role": "admin"})
    async def approve(
        self, state: State, caller: NamedDependency[Caller], draft_id: FromPath[uuid.UUID], data: JSONBody[Approve]
    ) -> Draft:
        """The committee approves its report (D24): only once its lower units' reports are in, or waived (D25b)."""
        db: Database = state.db
        async with db.write() as conn:
            rec = await _held_draft(conn, caller, draft_id)
            check_rev(data.rev, rec)
            if rec.submitted_on is None:
                raise invalid(
                    "approved_on",
                    "D24",
                    "Dự thảo chưa trình cấp ủy.",
                    "The draft has not been submitted to the committee.",
                )
            if data.approved_on < rec.submitted_on:
                raise invalid(
                    "approved_on", "D24", "Ngày thông qua trước ngày trình.", "Approved before it was submitted."
                )
            facts = await _facts_for(conn, rec)
            if facts.received:
                raise _already_in(rec, facts)
            owner = (await units_info(conn, [rec.owner]))[rec.owner]
            doc = await visible_document(conn, owner, rec.document, "document")
            children = [u for u in await expected_units(conn, owner, doc) if u.parent == owner.id]
            missing = [
                u
                for u, f, _ in await report_facts(conn, owner, doc, rec.kind, children)
                if not (f.received or f.waived)
            ]
            if missing:
                codes = ", ".join(u.code for u in missing[:20]) + (" ..." if len(missing) > 20 else "")
                raise Refusal(
                    409,
                    "report.lower_missing",
                    f"Chưa nhận đủ báo cáo của cấp dưới ({len(missing)}: {codes}); cấp ủy chỉ thông qua báo cáo của "
                    "cấp mình khi báo cáo cấp dưới đã đến hoặc được miễn (có lý do).",
                    f"Reports of lower units are missing ({len(missing)}: {codes}); a level approves its own only "
                    "once they are in or waived with a reason.",
                    field="approved_on",
                    rule="D25b",
                )
            changes = {"approved_on": data.approved_on, "approved_version": rec.versions[-1].number}
            new = await revise(conn, REPORT_DRAFT, caller, rec, changes)
            return await draft_out(conn, caller.unit, new, data.approved_on)

    @post("/{draft_id:uuid}/issue", status_code=200)
    async def issue(
        self, state: State, caller: NamedDependency[Caller], draft_id: FromPath[uuid.UUID], data: JSONBody[Issue]
    ) -> Draft:
        """Send the finished report up (D25: within 10 days of approval, else flagged late); after a return, send
        the corrected, later version (D25b)."""
        number = doc_number(data.report_number, "report_number")
        db: Database = state.db
        async with db.write() as conn:
            rec = await _held_draft(conn, caller, draft_id)
            check_rev(data.rev, rec)
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
            facts = await _facts_for(conn, rec)
            if facts.received:
                raise _already_in(rec, facts)
            latest = rec.versions[-1].number
            if facts.returned_version is not None and latest <= facts.returned_version:
                raise Refusal(
                    409,
                    "report.not_corrected",
                    f"Cấp trên đã trả lại phiên bản {facts.returned_version}: hãy thêm phiên bản đã sửa rồi gửi lại.",
                    f"Version {facts.returned_version} was returned: add a corrected version, then send it.",
                    field="version",
                    rule="D25b",
                )
            issuances = [*rec.issuances, Issuance(latest, data.issued_on, number)]
            new = await revise(conn, REPORT_DRAFT, caller, rec, {"issuances": issuances})
            return await draft_out(conn, caller.unit, new, data.issued_on)


# Workshops and conferences (D23).


class Meeting(msgspec.Struct, frozen=True):
    id: uuid.UUID
    unit: uuid.UUID
    rev: int
    draft: uuid.UUID
    kind: str
    title: str
    held_on: date
    place: str
    participants: list[Participant]


class MeetingCreate(msgspec.Struct, frozen=True):
    draft: uuid.UUID
    kind: str
    """workshop (hội thảo) or conference (hội nghị)."""
    title: str
    held_on: date
    participants: list[Participant]
    """category: leader, agency, expert, scientist or exemplary (D23)."""
    place: str = ""


class MeetingController(Controller):
    path = "/report-meetings"
    tags = ["review reports"]  # noqa: RUF012

    @get("/")
    async def list_meetings(
        self,
        state: State,
        caller: NamedDependency[Caller],
        draft: FromQuery[uuid.UUID],
    ) -> list[Meeting]:
        """Workshops and conferences held on a draft."""
        db: Database = state.db
        table = REPORT_MEETING.table
        async with db.read() as conn:
            held = await get_visible(conn, REPORT_DRAFT, caller.unit, draft, down=True, what=_DRAFT)
            stmt = addressed_select(REPORT_MEETING, caller.unit).where(
                table.c.draft == held.id, table.c.deleted.is_(False)
            )
            return [out(r, Meeting) for r in await records(conn, REPORT_MEETING, stmt.order_by(table.c.held_on))]

    @post("/")
    async def create(self, state: State, caller: NamedDependency[Caller], data: JSONBody[MeetingCreate]) -> Meeting:
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
        db: Database = state.db
        async with db.write() as conn:
            draft = await _held_draft(conn, caller, data.draft)
            rec = ReportMeetingRecord(
                id=new_id(),
                owner=draft.owner,
                audience=None,
                rev=1,
                deleted=False,
                draft=draft.id,
                kind=data.kind,
                title=data.title.strip(),
                held_on=data.held_on,
                place=data.place.strip(),
                participants=[msgspec.structs.replace(p, name=p.name.strip()) for p in data.participants],
            )
            await save(conn, REPORT_MEETING, rec)
        return out(rec, Meeting)


# Comments (D23, D24): the commenting unit's own records.


class Comment(msgspec.Struct, frozen=True):
    id: uuid.UUID
    unit: uuid.UUID
    """The commenting unit."""
    rev: int
    draft: uuid.UUID
    version: int
    section: str
    text: str
    commenter: str
    meeting: uuid.UUID | None
    made_on: date


class CommentCreate(msgspec.Struct, frozen=True):
    draft: uuid.UUID
    section: str
    """The key of the section commented on."""
    text: str
    made_on: date
    version: int | None = None
    """Defaults to the latest version."""
    commenter: str = ""
    meeting: uuid.UUID | None = None
    """The workshop or conference where the comment was made (the draft's own unit records those)."""
    unit: uuid.UUID | None = None


class CommentController(Controller):
    path = "/report-comments"
    tags = ["review reports"]  # noqa: RUF012

    @get("/")
    async def list_comments(
        self,
        state: State,
        caller: NamedDependency[Caller],
        draft: FromQuery[uuid.UUID],
        version: FromQuery[int | None] = None,
    ) -> list[Comment]:
        """Comments on a draft that the caller's unit may see: its own subtree's and those addressed to it (D4)."""
        db: Database = state.db
        table = REPORT_COMMENT.table
        async with db.read() as conn:
            held = await get_visible(conn, REPORT_DRAFT, caller.unit, draft, down=True, what=_DRAFT)
            stmt = addressed_select(REPORT_COMMENT, caller.unit).where(
                table.c.draft == held.id, table.c.deleted.is_(False)
            )
            if version is not None:
                stmt = stmt.where(table.c.version == version)
            rows = await records(conn, REPORT_COMMENT, stmt.order_by(table.c.version, table.c.section, table.c.id))
        return [out(r, Comment) for r in rows]

    @post("/")
    async def create(self, state: State, caller: NamedDependency[Caller], data: JSONBody[CommentCreate]) -> Comment:
        """Comment on a section of a draft as the caller's unit (D23); it reaches the draft's unit by sync."""
        if not data.text.strip():
            raise invalid("text", "D24", "Góp ý trống.", "The comment is empty.")
        db: Database = state.db
        async with db.write() as conn:
            owner = await writable_owner(conn, caller, data.unit or caller.unit.id)
            try:
                draft: ReportDraftRecord = await get_visible(
                    conn, REPORT_DRAFT, owner, data.draft, down=True, what=_DRAFT
                )
            except Refusal:
                raise invalid(
                    "draft",
                    "D23",
                    "Dự thảo không có hoặc đơn vị này không được xem.",
                    "No such draft visible to this unit.",
                ) from None
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
            rec = ReportCommentRecord(
                id=new_id(),
                owner=owner.id,
                audience=draft_unit.id if below else None,
                rev=1,
                deleted=False,
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


# Decisions of the levels above (D25b).


class Decision(msgspec.Struct, frozen=True):
    id: uuid.UUID
    unit: uuid.UUID
    """The deciding (higher) unit."""
    rev: int
    subject_unit: uuid.UUID
    document: uuid.UUID
    kind: str
    action: str
    draft: uuid.UUID | None
    version: int | None
    reason: str
    decided_on: date
    correct_by: date | None


class DecisionCreate(msgspec.Struct, frozen=True):
    action: str
    """accept, return (for correction) or waive (approve without this unit's report)."""
    subject_unit: uuid.UUID
    document: uuid.UUID
    kind: str
    decided_on: date
    reason: str = ""
    """Required to return or waive (D25b)."""
    correct_by: date | None = None
    """For a return: by when the corrected report is due (default: 7 days)."""
    unit: uuid.UUID | None = None
    """The deciding unit; the caller's by default."""


class DecisionController(Controller):
    path = "/report-decisions"
    tags = ["review reports"]  # noqa: RUF012

    @get("/")
    async def list_decisions(
        self,
        state: State,
        caller: NamedDependency[Caller],
        document: FromQuery[uuid.UUID | None] = None,
        subject_unit: FromQuery[uuid.UUID | None] = None,
    ) -> list[Decision]:
        """Decisions made in the caller's subtree, or about its subtree by the levels above."""
        db: Database = state.db
        table = REPORT_DECISION.table
        async with db.read() as conn:
            stmt = addressed_select(REPORT_DECISION, caller.unit).where(table.c.deleted.is_(False))
            if document is not None:
                stmt = stmt.where(table.c.document == document)
            if subject_unit is not None:
                stmt = stmt.where(table.c.subject_unit == subject_unit)
            rows = await records(conn, REPORT_DECISION, stmt.order_by(table.c.id).limit(1000))
        return [out(r, Decision) for r in rows]

    @post("/", opt={"role": "admin"})
    async def decide(self, state: State, caller: NamedDependency[Caller], data: JSONBody[DecisionCreate]) -> Decision:
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
            raise invalid(
                "correct_by", "D25b", "Hạn sửa trước ngày trả lại.", "The correction is due before the return."
            )
        db: Database = state.db
        async with db.write() as conn:
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
                raise Refusal(
                    409,
                    "report.not_in",
                    "Báo cáo của cấp dưới chưa được gửi lên (hoặc đang chờ sửa): chưa thể tiếp nhận hay trả lại.",
                    "The lower unit's report has not been sent up (or awaits correction): nothing to accept or return.",
                    field="subject_unit",
                    rule="D25b",
                )
            if data.action == "waive" and (facts.received or facts.waived):
                raise Refusal(
                    409,
                    "report.waive_needless",
                    "Báo cáo đã đến hoặc đã được miễn.",
                    "The report is already in, or already waived.",
                    field="subject_unit",
                    rule="D25b",
                )
            rec = ReportDecisionRecord(
                id=new_id(),
                owner=owner.id,
                audience=subject.id,
                rev=1,
                deleted=False,
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


# Completeness and timeliness (D25b).


class LevelOut(msgspec.Struct, frozen=True):
    depth: int | None
    expected: int
    received: int
    waived: int
    missing: int
    on_time: int
    late: int
    overdue: int
    returned: int
    issuance_late: int


class UnitReport(msgspec.Struct, frozen=True):
    unit: uuid.UUID
    code: str
    name: str
    depth: int
    due: date
    state: str
    state_vi: str
    timeliness: str
    timeliness_vi: str
    draft: uuid.UUID | None
    first_sent_on: date | None
    approved_on: date | None
    issuance_deadline: date | None
    issuance_late: bool
    correct_by: date | None


class Completeness(msgspec.Struct, frozen=True):
    document: uuid.UUID
    kind: str
    unit: uuid.UUID
    today: date
    total: LevelOut
    levels: list[LevelOut]
    units: list[UnitReport]
    """Deepest first, as reports climb (D21)."""
    assumptions: list[str]


def level_out(c: LevelCount) -> LevelOut:
    return LevelOut(
        c.depth,
        c.expected,
        c.received,
        c.waived,
        c.missing,
        c.on_time,
        c.late,
        c.overdue,
        c.returned,
        c.issuance_late,
    )


class CompletenessController(Controller):
    path = "/reports"
    tags = ["review reports"]  # noqa: RUF012

    @get("/completeness")
    async def completeness(
        self,
        state: State,
        caller: NamedDependency[Caller],
        document: FromQuery[uuid.UUID],
        kind: FromQuery[str] = "final",
        unit: FromQuery[uuid.UUID | None] = None,
        today: FromQuery[date | None] = None,
    ) -> Completeness:
        """Reports expected of a subtree for one review: how many arrived, how many on time, per level and per unit
        (D25b), each against its cascaded due date (D25a)."""
        review_kind(kind)
        day = today or date.today()
        db: Database = state.db
        async with db.read() as conn:
            viewer = await unit_in_scope(conn, caller, unit)
            doc = await visible_document(conn, viewer, document, "document")
            rows = await report_facts(conn, viewer, doc, kind, await expected_units(conn, viewer, doc))
        total, levels = completeness((f for _, f, _ in rows), today=day)
        units = [
            UnitReport(
                u.id,
                u.code,
                u.name,
                u.depth,
                f.due,
                f.state.name.lower(),
                f.state.value,
                f.timeliness(day).name.lower(),
                f.timeliness(day).value,
                d.id if d else None,
                f.first_sent_on,
                f.approved_on,
                issuance_deadline(f.approved_on) if f.approved_on else None,
                f.issuance_late(day),
                f.correct_by if f.return_open else None,
            )
            for u, f, d in sorted(rows, key=lambda r: (-r[0].depth, r[0].code))
        ]
        return Completeness(
            doc.id, kind, viewer.id, day, level_out(total), [level_out(c) for c in levels], units, list(ASSUMPTIONS_VI)
        )
