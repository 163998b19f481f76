"""Review report drafts (D23-D25b): the unit's draft with every version, its workshops and conferences, comments
of other units, and decisions of the levels above (accept, return for correction, waive).

Single writer: a higher level never edits a lower unit's draft. It writes its own decision addressed to that unit
(audience = the lower unit), which reaches the lower unit's node on its next pull.
"""

from __future__ import annotations

import uuid
from datetime import date

import msgspec
from sqlalchemy import JSON, Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.meta import Base, Envelope, Id
from shared.sync.registry import ROOT, Audience, Record, RecordType

REVIEW_KINDS = ("preliminary", "final")
MEETING_KINDS = ("workshop", "conference")
"""D23: hội thảo, hội nghị."""
PARTICIPANT_CATEGORIES = ("leader", "agency", "expert", "scientist", "exemplary")
"""D23: committee leaders, related agencies, experts in the field, scientists, exemplary individuals and collectives."""
DECISIONS = ("accept", "return", "waive")


class Section(msgspec.Struct, frozen=True):
    key: str
    """Stable across versions (`1`, `2.1` ...): comments refer to it."""
    heading: str
    text: str


class DraftVersion(msgspec.Struct, frozen=True):
    number: int
    written_on: date
    sections: list[Section]
    note: str = ""
    """What changed and why (comments taken in, a correction asked for)."""


class Issuance(msgspec.Struct, frozen=True):
    """The finished report sent up: its version, date and number (`12-BC/HU`)."""

    version: int
    issued_on: date
    report_number: str


class ReportDraftRow(Envelope, Base):
    __tablename__ = "report_drafts"

    document: Mapped[uuid.UUID] = mapped_column(Id, index=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(Text)
    versions: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    submitted_on: Mapped[date | None] = mapped_column(Date)
    submitted_version: Mapped[int | None] = mapped_column(Integer)
    approved_on: Mapped[date | None] = mapped_column(Date)
    approved_version: Mapped[int | None] = mapped_column(Integer)
    issuances: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)


class ReportDraftRecord(Record, frozen=True):
    document: uuid.UUID
    kind: str
    title: str
    versions: list[DraftVersion]
    """Every version is kept (D24), oldest first."""
    submitted_on: date | None = None
    """Submitted to the unit's own committee (D24)."""
    submitted_version: int | None = None
    approved_on: date | None = None
    """The committee approved it: the issuance deadline runs from here (D25)."""
    approved_version: int | None = None
    issuances: list[Issuance] = msgspec.field(default_factory=list)


class Participant(msgspec.Struct, frozen=True):
    name: str
    category: str
    organisation: str = ""


class ReportMeetingRow(Envelope, Base):
    __tablename__ = "report_meetings"

    draft: Mapped[uuid.UUID] = mapped_column(Id, index=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(Text)
    held_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(Text)
    participants: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)


class ReportMeetingRecord(Record, frozen=True):
    """A workshop or conference to collect comments on a draft (D23), held by the draft's unit."""

    draft: uuid.UUID
    kind: str
    title: str
    held_on: date
    place: str
    participants: list[Participant]


class ReportCommentRow(Envelope, Base):
    __tablename__ = "report_comments"

    draft: Mapped[uuid.UUID] = mapped_column(Id, index=True)
    version: Mapped[int] = mapped_column(Integer)
    section: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    commenter: Mapped[str] = mapped_column(Text)
    meeting: Mapped[uuid.UUID | None] = mapped_column(Id)
    made_on: Mapped[date] = mapped_column(Date)


class ReportCommentRecord(Record, frozen=True):
    """A comment on one section of one version of a draft, owned by the commenting unit (D23, D24).

    Its audience is the draft's unit when that unit is below the commenter (so it travels down to it), else empty
    (it travels up to the draft's unit on its own).
    """

    draft: uuid.UUID
    version: int
    section: str
    text: str
    commenter: str
    """Who within the commenting unit, or the workshop participant whose comment the draft's unit records."""
    meeting: uuid.UUID | None
    made_on: date


class ReportDecisionRow(Envelope, Base):
    __tablename__ = "report_decisions"

    subject_unit: Mapped[uuid.UUID] = mapped_column(Id, index=True)
    document: Mapped[uuid.UUID] = mapped_column(Id, index=True)
    kind: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(20))
    draft: Mapped[uuid.UUID | None] = mapped_column(Id)
    version: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    decided_on: Mapped[date] = mapped_column(Date)
    correct_by: Mapped[date | None] = mapped_column(Date)


class ReportDecisionRecord(Record, frozen=True):
    """A higher level's decision on a lower unit's report (D25b), addressed to that unit (audience)."""

    subject_unit: uuid.UUID
    document: uuid.UUID
    kind: str
    action: str
    """`accept`, `return` (for correction, with a reason) or `waive` (approve without it, with a reason)."""
    draft: uuid.UUID | None
    version: int | None
    """The version accepted or returned: a return is answered by sending up a later version."""
    reason: str
    decided_on: date
    correct_by: date | None = None


def validate_draft(rec: ReportDraftRecord) -> str | None:
    if rec.kind not in REVIEW_KINDS:
        return f"Loại báo cáo “{rec.kind}” không hợp lệ (preliminary/final)"
    if [v.number for v in rec.versions] != list(range(1, len(rec.versions) + 1)):
        return "Các phiên bản dự thảo phải được đánh số liên tục từ 1 và giữ lại đủ (D24)"
    if rec.approved_on is not None and rec.submitted_on is None:
        return "Dự thảo chưa trình cấp ủy thì chưa thể được thông qua (D24)"
    if rec.issuances and rec.approved_on is None:
        return "Báo cáo chưa được cấp ủy thông qua thì chưa thể ban hành (D25)"
    return None


def validate_meeting(rec: ReportMeetingRecord) -> str | None:
    if rec.kind not in MEETING_KINDS:
        return f"Loại “{rec.kind}” không hợp lệ (workshop/conference) (D23)"
    if not rec.participants or any(p.category not in PARTICIPANT_CATEGORIES for p in rec.participants):
        return "Hội thảo, hội nghị cần thành phần tham dự thuộc các nhóm quy định (D23)"
    return None


def validate_comment(rec: ReportCommentRecord) -> str | None:
    return None if rec.text.strip() else "Góp ý trống (D24)"


def validate_decision(rec: ReportDecisionRecord) -> str | None:
    if rec.action not in DECISIONS:
        return f"Quyết định “{rec.action}” không hợp lệ (accept/return/waive)"
    if rec.action in ("return", "waive") and not rec.reason.strip():
        return "Trả lại hoặc miễn báo cáo phải ghi lý do (D25b)"
    if rec.audience != rec.subject_unit or rec.subject_unit == rec.owner:
        return "Quyết định phải gửi đến đúng đơn vị cấp dưới có báo cáo (D25b)"
    return None


REPORT_DRAFT = RecordType(
    name="report_draft",
    struct=ReportDraftRecord,
    model=ReportDraftRow,
    ceiling=ROOT,
    audience=Audience.OWNER,
    validate=validate_draft,
)
REPORT_MEETING = RecordType(
    name="report_meeting",
    struct=ReportMeetingRecord,
    model=ReportMeetingRow,
    ceiling=ROOT,
    audience=Audience.NONE,
    validate=validate_meeting,
)
REPORT_COMMENT = RecordType(
    name="report_comment",
    struct=ReportCommentRecord,
    model=ReportCommentRow,
    ceiling=ROOT,
    audience=Audience.OWNER_SUBTREE,
    validate=validate_comment,
)
REPORT_DECISION = RecordType(
    name="report_decision",
    struct=ReportDecisionRecord,
    model=ReportDecisionRow,
    ceiling=ROOT,
    audience=Audience.OWNER_SUBTREE,
    validate=validate_decision,
)
