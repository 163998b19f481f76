"""The shapes report drafts, meetings, comments, decisions and completeness take at the API and in forms (D23–D25b)."""

from __future__ import annotations

import uuid
from datetime import date

import msgspec

from shared.drafts.records import DraftVersion, Issuance, Participant


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
