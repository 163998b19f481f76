"""Báo cáo sơ kết, tổng kết: a unit's review report from first draft to issue (D23–D25), the reports its lower units
owe with the decisions on them (D25b), and completeness and timeliness per level — over `shared.drafts.service`."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, TypeAlias
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.core.scope import Caller, UnitInfo, unit_info, writes_here
from shared.db.engine import Database
from shared.documents.service import newest_documents, visible_documents
from shared.domain.deadlines import issuance_deadline
from shared.drafts import feedback, service
from shared.drafts.facts import completeness_of
from shared.drafts.records import MEETING_KINDS, PARTICIPANT_CATEGORIES, DraftVersion, Participant
from shared.drafts.schemas import (
    Approve,
    CommentCreate,
    DecisionCreate,
    Draft,
    DraftCreate,
    Issue,
    MeetingCreate,
    SectionIn,
    Submit,
    VersionCreate,
)
from shared.ui.export import xlsx_response
from shared.ui.forms import Form, Posted
from shared.ui.web import Frame, Listed, Page, back_to, list_page, page_for, render, where

KIND_LABELS_VI = {"preliminary": "Sơ kết", "final": "Tổng kết"}
MEETING_LABELS_VI = {"workshop": "Hội thảo", "conference": "Hội nghị"}
PARTICIPANT_LABELS_VI = {
    "leader": "Lãnh đạo cấp ủy",
    "agency": "Cơ quan liên quan",
    "expert": "Chuyên gia",
    "scientist": "Nhà khoa học",
    "exemplary": "Điển hình tiên tiến",
}
ACTION_LABELS_VI = {"accept": "Tiếp nhận", "return": "Trả lại để sửa", "waive": "Miễn báo cáo"}
# The parts of a review report as the province's guidance lays them out; every draft starts with these.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("ket-qua", "I. Kết quả thực hiện"),
    ("danh-gia", "II. Đánh giá chung (ưu điểm, hạn chế, nguyên nhân)"),
    ("bai-hoc", "III. Bài học kinh nghiệm"),
    ("phuong-huong", "IV. Phương hướng, nhiệm vụ, giải pháp"),
    ("kien-nghi", "V. Đề xuất, kiến nghị"),
)
BASE = "/bao-cao"


def _review(form: Form, name: str = "kind") -> str:
    return form.choice(name, KIND_LABELS_VI, message="Chọn sơ kết hoặc tổng kết.")


def _sections_from(form: Form, version: DraftVersion | None = None) -> list[SectionIn]:
    """The section texts typed in the form, under the headings of the version they revise (or the standard ones)."""
    headings = [(s.key, s.heading) for s in version.sections] if version else list(SECTIONS)
    return [SectionIn(key, heading, form.text(f"section-{key}")) for key, heading in headings]


def _participants(form: Form) -> list[Participant]:
    """One participant per line: `Họ tên; nhóm; cơ quan` — the group by its Vietnamese label or code (D23)."""
    by_label = {v.lower(): k for k, v in PARTICIPANT_LABELS_VI.items()} | {k: k for k in PARTICIPANT_CATEGORIES}
    people: list[Participant] = []
    for number, line in enumerate(form.text("participants").splitlines(), start=1):
        if not line.strip():
            continue
        name, _, rest = line.partition(";")
        group, _, organisation = rest.partition(";")
        category = by_label.get(group.strip().lower())
        if category is None:
            form.errors["participants"] = (
                f"Dòng {number}: nhóm «{group.strip()}» không có; ghi một trong: "
                + ", ".join(PARTICIPANT_LABELS_VI.values())
                + "."
            )
            return []
        people.append(Participant(name.strip(), category, organisation.strip()))
    if not people and "participants" not in form.errors:
        form.errors["participants"] = "Ghi ít nhất một người tham dự, mỗi người một dòng."
    return people


# The list: this unit's report, its lower units' reports and decisions on them, completeness per level.


async def _list_context(
    request: Request[Any, Any, State], page: Page, document: uuid.UUID | None, kind: str, state: str | None
) -> dict[str, Any]:
    db: Database = request.app.state.db
    today = date.today()
    async with db.read() as conn:
        docs = await newest_documents(conn, page.viewer)
        chosen = next((d for d in docs if d.id == document), docs[0] if docs else None)
        drafts: list[Draft] = []
        report = None
        if chosen is not None:
            drafts = await service.list_drafts(conn, page.me, document=chosen.id, kind=kind, unit=page.viewer.id)
            report = await completeness_of(conn, page.viewer, chosen.id, kind, today)
        # A unit with its own node writes its drafts there (single writer): the form is not offered here.
        writable = page.can_edit and await writes_here(conn, page.viewer)
    own = next((d for d in drafts if d.unit == page.viewer.id), None)
    units = report.units if report else []
    if state:
        units = [u for u in units if u.state == state]
    return {
        "level_names": {
            level.depth: _level_name(page, level.depth) for level in (report.levels if report else []) if level.depth
        },
        "docs": docs,
        "doc": chosen,
        "kind": kind,
        "kinds": KIND_LABELS_VI,
        "own": own,
        "writable": writable,
        "report": report,
        "units": [u for u in units if u.unit != page.viewer.id],
        "state": state or "",
        "states": sorted({(u.state, u.state_vi) for u in (report.units if report else [])}),
        "sections": SECTIONS,
        "actions": ACTION_LABELS_VI,
        "form": {},
        "errors": {},
        "decision_form": {},
        "decision_errors": {},
        "today": today,
        "where": where,
    }


def _level_name(page: Page, depth: int) -> str:
    """A level as the viewer sees it: its own, the one directly below, then further down (D21: bottom-up)."""
    below = depth - page.viewer.depth
    if below <= 0:
        return f"Cấp mình ({page.viewer.name})"
    return "Cấp dưới trực tiếp" if below == 1 else f"Cấp dưới, bậc {below}"


async def _listed(
    request: Request[Any, Any, State],
    frame: Frame,
    document: FromQuery[uuid.UUID | None] = None,
    kind: FromQuery[str] = "preliminary",
    status: Annotated[str | None, QueryParameter(name="state")] = None,
) -> dict[str, Any]:
    """The reports as the filters ask (`?document=&kind=&state=`), for the page and its .xlsx alike."""
    return await _list_context(request, frame, document, kind if kind in KIND_LABELS_VI else "preliminary", status)


LISTED = {"listed": Provide(_listed)}


reports_page = list_page(BASE, "drafts.html", LISTED)


@get(f"{BASE}.xlsx", dependencies=LISTED)
async def reports_xlsx(listed: Listed) -> Response[Any]:
    """The lower units' reports as filtered: due date, state, timeliness (D25b)."""
    header = ("Mã", "Đơn vị", "Hạn", "Tình trạng", "Hạn sửa", "Đúng hạn", "Gửi lên")
    rows = [
        (u.code, u.name, u.due, u.state_vi, u.correct_by, u.timeliness_vi, u.first_sent_on) for u in listed["units"]
    ]
    return xlsx_response("bao-cao.xlsx", "Báo cáo cấp dưới", header, rows)


@post(f"{BASE}/moi", status_code=303)
async def start_draft(request: Request[Any, Any, State], frame: Frame, form: Posted) -> Response[Any]:
    """Start the unit's report with its first version (D24), with every check of `POST /api/v1/report-drafts`."""
    document = form.ident("document", required="Chọn văn bản được sơ kết, tổng kết.")
    kind = _review(form)
    title = form.text("title", required="Nhập tên báo cáo.")
    written_on = form.day("written_on")
    sections = _sections_from(form)
    if form.ok and document is not None and written_on is not None:
        data = DraftCreate(document, kind, title, sections, written_on, form.text("note"), unit=frame.viewer.id)
        made = await form.save(lambda conn: service.create_draft(conn, frame.me, data))
        if made:
            return Redirect(f"{BASE}/{made.value.id}?saved=created", status_code=303)
    context = await _list_context(request, frame, document, kind if kind in KIND_LABELS_VI else "preliminary", None)
    return form.again("drafts.html", frame, context)


def _decision(form: Form, unit: uuid.UUID) -> DecisionCreate | None:
    """The decision as posted (D25b: a return or a waiver says why), or None with each problem in `form.errors`."""
    subject = form.ident("subject_unit", required="Chọn đơn vị cấp dưới.")
    document = form.ident("document", required="Chọn văn bản.")
    kind = _review(form)
    action = form.choice("action", ACTION_LABELS_VI, message="Chọn tiếp nhận, trả lại hoặc miễn.")
    decided_on = form.day("decided_on")
    correct_by = form.day("correct_by", required=False)
    reason = form.text("reason")
    if action in ("return", "waive") and not reason:
        form.errors["reason"] = "Trả lại hoặc miễn báo cáo phải ghi rõ lý do (D25b)."
    if not form.ok or subject is None or document is None or decided_on is None:
        return None
    return DecisionCreate(action, subject, document, kind, decided_on, reason, correct_by, unit=unit)


@post(f"{BASE}/quyet-dinh", status_code=303, opt={"role": "admin"})
async def decide(request: Request[Any, Any, State], frame: Frame, form: Posted) -> Response[Any]:
    """Accept a lower unit's report, return it for correction with a reason and deadline, or waive it (D25b)."""
    data = _decision(form, frame.viewer.id)
    if data is not None and await form.save(lambda conn: feedback.decide(conn, frame.me, data)):
        return back_to(BASE, frame, document=data.document, kind=data.kind, saved=data.action)
    document = form.ident("document", required=None)
    kind = _review(form)
    context = await _list_context(request, frame, document, kind if kind in KIND_LABELS_VI else "preliminary", None)
    return form.again("drafts.html", frame, context, prefix="decision_")


# One draft: its versions, meetings and comments, and the steps from submission to issue.


def allowed_steps(draft: Draft, admin: bool) -> dict[str, bool]:
    """The steps a draft's state allows, as the service checks them (D24, D25, D25b): forward from drafting to
    submission, approval and issue; once sent up, nothing until the level above returns it for correction."""
    received = draft.state in ("received", "accepted")
    returned = draft.state == "returned"
    latest = draft.versions[-1].number
    approved = draft.approved_on is not None
    resubmit = draft.submitted_on is None or (draft.submitted_version or 0) < latest
    return {
        "received": received,
        "version": not received and (not approved or returned),
        "submit": not received and not approved and resubmit,
        "approve": admin and not received and draft.submitted_on is not None and not approved,
        "issue": not received and approved and (not returned or latest > (draft.returned_version or 0)),
    }


def decisions_open(draft: Draft, decider: UnitInfo, owner: UnitInfo | None, admin: bool) -> list[tuple[str, str]]:
    """What the level above may decide on this draft here (D25b): accept or return one sent up; waive one not in,
    by the level directly above."""
    if not admin or owner is None or decider.id == owner.id or not decider.covers(owner):
        return []
    if draft.state in ("received", "accepted"):
        return [(a, ACTION_LABELS_VI[a]) for a in ("accept", "return")]
    if draft.state != "waived" and owner.parent == decider.id:
        return [("waive", ACTION_LABELS_VI["waive"])]
    return []


async def _draft_context(request: Request[Any, Any, State], caller: Caller, draft_id: uuid.UUID) -> dict[str, Any]:
    db: Database = request.app.state.db
    async with db.read() as conn:
        draft = await service.get_draft(conn, caller, draft_id)
        meetings = await feedback.list_meetings(conn, caller, draft_id)
        comments = await feedback.list_comments(conn, caller, draft_id)
        decisions = await feedback.list_decisions(conn, caller, draft.document, draft.unit)
        owner = await unit_info(conn, draft.unit)
        docs = {d.id: d for d in await visible_documents(conn, caller.unit)}
    latest = draft.versions[-1]
    by_section: dict[tuple[int, str], list[Any]] = {}
    for c in comments:
        by_section.setdefault((c.version, c.section), []).append(c)
    query = {"document": str(draft.document), "kind": draft.kind, "unit": str(draft.unit)}
    return {
        "draft": draft,
        "owner": owner,
        "doc": docs.get(draft.document),
        "latest": latest,
        "meetings": meetings,
        "comments": by_section,
        "decisions": [d for d in decisions if d.subject_unit == draft.unit],
        "kinds": KIND_LABELS_VI,
        "meeting_kinds": MEETING_LABELS_VI,
        "groups": PARTICIPANT_LABELS_VI,
        "actions": ACTION_LABELS_VI,
        "mine": caller.unit.covers(owner) if owner else False,
        "deadline": issuance_deadline(draft.approved_on) if draft.approved_on else None,
        "steps": allowed_steps(draft, caller.at_least("admin")),
        "decide": decisions_open(draft, caller.unit, owner, caller.at_least("admin")),
        "docx": f"/api/v1/consolidations/export.docx?{urlencode(query)}",
        "xlsx": f"/api/v1/consolidations/export.xlsx?{urlencode(query)}",
        "form": {},
        "errors": {},
        "which": "",
        "today": date.today(),
    }


@get(f"{BASE}/{{draft_id:uuid}}")
async def draft_page(
    request: Request[Any, Any, State],
    caller: NamedDependency[Caller],
    draft_id: FromPath[uuid.UUID],
    saved: FromQuery[str | None] = None,
) -> Response[Any]:
    frame = await page_for(request, caller)
    context = await _draft_context(request, caller, draft_id)
    return render("draft.html", frame, saved=saved, **context)


@dataclass(frozen=True, slots=True)
class DraftStep:
    """A step posted on one draft (`/bao-cao/{draft_id}/…`): who posts it, the form, and the draft."""

    request: Request[Any, Any, State]
    caller: NamedDependency[Caller]
    form: Posted
    draft_id: FromPath[uuid.UUID]

    async def dated(
        self, which: str, field: str, write: Callable[[AsyncConnection, date], Awaitable[object]]
    ) -> Response[Any]:
        """Run the step, dated by one field of the form (`write(conn, day)`); on a problem or a refusal show the
        draft again with the form as typed."""
        day = self.form.day(field)
        if day is not None and self.form.ok:
            on = day
            if await self.form.save(lambda conn: write(conn, on)):
                return Redirect(f"{BASE}/{self.draft_id}?saved={which}", status_code=303)
        frame = await page_for(self.request, self.caller)
        context = await _draft_context(self.request, self.caller, self.draft_id)
        return self.form.again("draft.html", frame, context, which=which)


STEP = {"step": Provide(DraftStep, sync_to_thread=False)}
"""Built by Litestar from its fields: the request, the caller, the posted form and the path's draft."""
Step: TypeAlias = NamedDependency[DraftStep]


@post(f"{BASE}/{{draft_id:uuid}}/quyet-dinh", status_code=303, dependencies=STEP, opt={"role": "admin"})
async def decide_on_draft(step: Step) -> Response[Any]:
    """A decision taken on the report's own page (D25b); refused, that page again with what was typed."""
    data = _decision(step.form, step.caller.unit.id)
    if data is not None and await step.form.save(lambda conn: feedback.decide(conn, step.caller, data)):
        return Redirect(f"{BASE}/{step.draft_id}?saved={data.action}", status_code=303)
    frame = await page_for(step.request, step.caller)
    context = await _draft_context(step.request, step.caller, step.draft_id)
    return step.form.again("draft.html", frame, context, which="decision")


@post(f"{BASE}/{{draft_id:uuid}}/phien-ban", status_code=303, dependencies=STEP)
async def new_version(step: Step) -> Response[Any]:
    """A new version: comments taken in (D24) or the correction the level above asked for (D25b)."""
    async with step.request.app.state.db.read() as conn:
        held = await service.get_draft(conn, step.caller, step.draft_id)
    sections = _sections_from(step.form, held.versions[-1])
    rev = int(step.form.text("rev") or held.rev)
    note = step.form.text("note")
    return await step.dated(
        "version",
        "written_on",
        lambda conn, on: service.add_version(conn, step.caller, step.draft_id, VersionCreate(sections, on, note, rev)),
    )


@post(f"{BASE}/{{draft_id:uuid}}/trinh", status_code=303, dependencies=STEP)
async def submit(step: Step) -> Response[Any]:
    """The lead agency submits the latest version to its committee (D24)."""
    return await step.dated(
        "submit", "submitted_on", lambda conn, on: service.submit_draft(conn, step.caller, step.draft_id, Submit(on))
    )


@post(f"{BASE}/{{draft_id:uuid}}/thong-qua", status_code=303, opt={"role": "admin"}, dependencies=STEP)
async def approve(step: Step) -> Response[Any]:
    """The committee approves its report, once its lower units' reports are in or waived (D24, D25b)."""
    return await step.dated(
        "approve", "approved_on", lambda conn, on: service.approve_draft(conn, step.caller, step.draft_id, Approve(on))
    )


@post(f"{BASE}/{{draft_id:uuid}}/ban-hanh", status_code=303, dependencies=STEP)
async def issue(step: Step) -> Response[Any]:
    """Issue and send the report up, within 10 days of approval (D25); after a return, the corrected version."""
    number = step.form.text("report_number", required="Nhập số báo cáo, ví dụ 25-BC/ĐU.")
    return await step.dated(
        "issue", "issued_on", lambda conn, on: service.issue_draft(conn, step.caller, step.draft_id, Issue(on, number))
    )


@post(f"{BASE}/{{draft_id:uuid}}/hoi-nghi", status_code=303, dependencies=STEP)
async def add_meeting(step: Step) -> Response[Any]:
    """Record a workshop or conference held on the draft, with its participants (D23)."""
    form = step.form
    kind = form.choice("meeting_kind", MEETING_KINDS, message="Chọn hội thảo hoặc hội nghị.")
    title = form.text("meeting_title", required="Nhập tên hội thảo, hội nghị.")
    place = form.text("place")
    people = _participants(form)

    def write(conn: AsyncConnection, held_on: date) -> Awaitable[object]:
        return feedback.add_meeting(
            conn, step.caller, MeetingCreate(step.draft_id, kind, title, held_on, people, place)
        )

    return await step.dated("meeting", "held_on", write)


@post(f"{BASE}/{{draft_id:uuid}}/gop-y", status_code=303, dependencies=STEP)
async def add_comment(step: Step) -> Response[Any]:
    """Comment on a section of the draft as one's own unit (D23, D24); it reaches the draft's unit by sync."""
    form = step.form
    section = form.text("section", required="Chọn mục được góp ý.")
    text = form.text("text", required="Nhập nội dung góp ý.")
    meeting = form.ident("meeting")
    commenter = form.text("commenter")

    def write(conn: AsyncConnection, made_on: date) -> Awaitable[object]:
        data = CommentCreate(step.draft_id, section, text, made_on, commenter=commenter, meeting=meeting)
        return feedback.add_comment(conn, step.caller, data)

    return await step.dated("comment", "made_on", write)


PAGES = (
    reports_xlsx,
    reports_page,
    start_draft,
    decide,
    decide_on_draft,
    draft_page,
    new_version,
    submit,
    approve,
    issue,
    add_meeting,
    add_comment,
)
