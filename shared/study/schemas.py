"""The shapes study sessions and propaganda take at the boundary: API bodies and answers, form input (D8, D9)."""

from __future__ import annotations

import uuid
from datetime import date

import msgspec

CHANNEL_LABELS_VI = {
    "cultural": "Thiết chế văn hóa",
    "loudspeaker": "Loa truyền thanh cấp xã",
    "oral": "Tuyên truyền miệng (báo cáo viên, tuyên truyền viên)",
    "it": "Công nghệ thông tin",
}
FORM_LABELS_VI = {"in_person": "Trực tiếp", "online": "Trực tuyến", "mixed": "Kết hợp"}


class StudySession(msgspec.Struct, frozen=True):
    id: uuid.UUID
    unit: uuid.UUID
    """The organising unit."""
    rev: int
    title: str
    documents: list[uuid.UUID]
    held_on: date
    form: str
    participants: str
    invited: int
    attended: int


class StudySessionCreate(msgspec.Struct, frozen=True):
    title: str
    documents: list[uuid.UUID]
    held_on: date
    form: str
    """in_person, online or mixed (D8)."""
    invited: int
    attended: int
    participants: str = ""
    unit: uuid.UUID | None = None


class StudySessionUpdate(msgspec.Struct, frozen=True):
    rev: int | msgspec.UnsetType = msgspec.UNSET
    title: str | msgspec.UnsetType = msgspec.UNSET
    documents: list[uuid.UUID] | msgspec.UnsetType = msgspec.UNSET
    held_on: date | msgspec.UnsetType = msgspec.UNSET
    form: str | msgspec.UnsetType = msgspec.UNSET
    invited: int | msgspec.UnsetType = msgspec.UNSET
    attended: int | msgspec.UnsetType = msgspec.UNSET
    participants: str | msgspec.UnsetType = msgspec.UNSET


class CoverageRow(msgspec.Struct, frozen=True):
    unit: uuid.UUID
    code: str
    name: str
    depth: int
    bound: bool
    """False for armed-forces units: they study under their own guidance (D3), so not holding one is no shortfall."""
    sessions: int
    first_held_on: date | None
    attended: int


class Coverage(msgspec.Struct, frozen=True):
    document: uuid.UUID
    bound_units: int
    bound_held: int
    armed_forces_units: int
    armed_forces_held: int
    units: list[CoverageRow]


class Propaganda(msgspec.Struct, frozen=True):
    id: uuid.UUID
    unit: uuid.UUID
    rev: int
    channel: str
    document: uuid.UUID | None
    period_start: date
    period_end: date
    count: int
    reached: int
    note: str


class PropagandaCreate(msgspec.Struct, frozen=True):
    channel: str
    """cultural, loudspeaker, oral or it (D9)."""
    period_start: date
    period_end: date
    count: int
    reached: int
    document: uuid.UUID | None = None
    note: str = ""
    unit: uuid.UUID | None = None


class PropagandaUpdate(msgspec.Struct, frozen=True):
    rev: int | msgspec.UnsetType = msgspec.UNSET
    channel: str | msgspec.UnsetType = msgspec.UNSET
    period_start: date | msgspec.UnsetType = msgspec.UNSET
    period_end: date | msgspec.UnsetType = msgspec.UNSET
    count: int | msgspec.UnsetType = msgspec.UNSET
    reached: int | msgspec.UnsetType = msgspec.UNSET
    document: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET
    note: str | msgspec.UnsetType = msgspec.UNSET


class ChannelTotal(msgspec.Struct, frozen=True):
    channel: str
    label_vi: str
    activities: int
    count: int
    reached: int
