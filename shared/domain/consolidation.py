"""Consolidated figures of a review (D20, D26): one set of sections per subtree, added level by level.

Every figure is a count that adds up: a level's figures are its own records' figures plus the sum of its
children's subtrees. Rates are derived for display only and never added. The sections for action programmes and
surveys (D14, D15, D22) are reserved by name and stay empty until those records exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date

from shared.domain.deadlines import Timeliness
from shared.domain.formatting import format_percent
from shared.domain.grades import Band

BANDS: tuple[Band, ...] = (Band.GOOD, Band.FAIR, Band.AVERAGE, Band.WEAK)
CHANNELS: tuple[str, ...] = ("cultural", "loudspeaker", "oral", "it")
"""D9, in the order the report lists them."""
CHANNEL_LABELS_VI: Mapping[str, str] = {
    "cultural": "Thiết chế văn hóa",
    "loudspeaker": "Loa truyền thanh cấp xã",
    "oral": "Tuyên truyền miệng (báo cáo viên, tuyên truyền viên)",
    "it": "Công nghệ thông tin, mạng xã hội",
}
SECTIONS: tuple[str, ...] = ("essays", "study", "propaganda", "reports", "programmes", "surveys")
"""Sections of a consolidated report, in order; `programmes` and `surveys` come with action programmes and surveys."""
PENDING_SECTIONS: Mapping[str, str] = {
    "programmes": "Chương trình hành động và chỉ tiêu (D14, D15): chưa có dữ liệu trong hệ thống.",
    "surveys": "Kết quả khảo sát (D22): chưa có dữ liệu trong hệ thống.",
}


def _add_maps(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    return {k: a.get(k, 0) + b.get(k, 0) for k in dict.fromkeys([*a, *b])}


@dataclass(frozen=True, slots=True)
class GroupEssays:
    """Essays of one group of members (obliged or encouraged, D12), by each member's latest attempt (D13)."""

    members: int = 0
    """On the rosters as counted by the roster-holding units (no names travel up)."""
    wrote: int = 0
    bands: Mapping[str, int] = field(default_factory=dict)
    rewrites_open: int = 0
    """Latest attempt Yếu: a rewrite is owed."""
    rewritten: int = 0
    """Wrote more than one attempt."""

    def __add__(self, other: GroupEssays) -> GroupEssays:
        return GroupEssays(
            self.members + other.members,
            self.wrote + other.wrote,
            _add_maps(self.bands, other.bands),
            self.rewrites_open + other.rewrites_open,
            self.rewritten + other.rewritten,
        )

    def band(self, band: Band | str) -> int:
        return self.bands.get(str(band), 0)

    @property
    def rate(self) -> str:
        """Participation, `87,5%`; `—` when no member is counted."""
        return format_percent(self.wrote, self.members)


@dataclass(frozen=True, slots=True)
class EssayFigures:
    obliged: GroupEssays = field(default_factory=GroupEssays)
    encouraged: GroupEssays = field(default_factory=GroupEssays)

    def __add__(self, other: EssayFigures) -> EssayFigures:
        return EssayFigures(self.obliged + other.obliged, self.encouraged + other.encouraged)

    @property
    def wrote(self) -> int:
        return self.obliged.wrote + self.encouraged.wrote

    @property
    def shortfall(self) -> int:
        """Obliged members who wrote nothing (D12); never negative, even with a stale roster count."""
        return max(self.obliged.members - self.obliged.wrote, 0)

    def band(self, band: Band | str) -> int:
        return self.obliged.band(band) + self.encouraged.band(band)

    @property
    def rewrites_open(self) -> int:
        return self.obliged.rewrites_open + self.encouraged.rewrites_open


@dataclass(frozen=True, slots=True)
class StudyFigures:
    """Study sessions (D8) held up to the cut-off."""

    sessions: int = 0
    invited: int = 0
    attended: int = 0
    by_form: Mapping[str, int] = field(default_factory=dict)

    def __add__(self, other: StudyFigures) -> StudyFigures:
        return StudyFigures(
            self.sessions + other.sessions,
            self.invited + other.invited,
            self.attended + other.attended,
            _add_maps(self.by_form, other.by_form),
        )

    @property
    def attendance(self) -> str:
        return format_percent(self.attended, self.invited)


@dataclass(frozen=True, slots=True)
class ChannelFigures:
    activities: int = 0
    reached: int = 0

    def __add__(self, other: ChannelFigures) -> ChannelFigures:
        return ChannelFigures(self.activities + other.activities, self.reached + other.reached)


@dataclass(frozen=True, slots=True)
class PropagandaFigures:
    """Propaganda (D9) by channel, for periods starting up to the cut-off."""

    channels: Mapping[str, ChannelFigures] = field(default_factory=dict)

    def __add__(self, other: PropagandaFigures) -> PropagandaFigures:
        keys = dict.fromkeys([*self.channels, *other.channels])
        zero = ChannelFigures()
        return PropagandaFigures({k: self.channels.get(k, zero) + other.channels.get(k, zero) for k in keys})

    def channel(self, name: str) -> ChannelFigures:
        return self.channels.get(name, ChannelFigures())

    @property
    def total(self) -> ChannelFigures:
        return sum(self.channels.values(), ChannelFigures())


@dataclass(frozen=True, slots=True)
class ReportFigures:
    """Review reports of the units below (D21, D25b): expected, received, on time, late, overdue."""

    expected: int = 0
    received: int = 0
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    """Not received and past its due date."""

    def __add__(self, other: ReportFigures) -> ReportFigures:
        return ReportFigures(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def completeness(self) -> str:
        return format_percent(self.received, self.expected)

    @property
    def timeliness(self) -> str:
        return format_percent(self.on_time, self.expected)


def report_figures(statuses: Iterable[Timeliness]) -> ReportFigures:
    """Count each expected report's timeliness (D25b)."""
    expected = received = on_time = late = overdue = 0
    for status in statuses:
        expected += 1
        received += status in (Timeliness.ON_TIME, Timeliness.LATE)
        on_time += status is Timeliness.ON_TIME
        late += status is Timeliness.LATE
        overdue += status is Timeliness.OVERDUE
    return ReportFigures(expected, received, on_time, late, overdue)


@dataclass(frozen=True, slots=True)
class Figures:
    """All sections for one subtree; `programmes` and `surveys` are None until those records exist."""

    essays: EssayFigures = field(default_factory=EssayFigures)
    study: StudyFigures = field(default_factory=StudyFigures)
    propaganda: PropagandaFigures = field(default_factory=PropagandaFigures)
    reports: ReportFigures = field(default_factory=ReportFigures)
    programmes: None = None
    surveys: None = None

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            self.essays + other.essays,
            self.study + other.study,
            self.propaganda + other.propaganda,
            self.reports + other.reports,
        )


def total(parts: Iterable[Figures]) -> Figures:
    return sum(parts, Figures())


@dataclass(frozen=True, slots=True)
class UnitRef:
    id: uuid.UUID
    code: str
    name: str
    level: str
    depth: int


@dataclass(frozen=True, slots=True)
class LevelRow:
    """One unit's subtree in a consolidation."""

    unit: UnitRef
    figures: Figures


@dataclass(frozen=True, slots=True)
class LateItem:
    """A unit below whose review report is late or overdue (D25b)."""

    unit: UnitRef
    due: date
    status: Timeliness
    held_on: date | None


@dataclass(frozen=True, slots=True)
class Consolidation:
    """A level's consolidated figures for one review of one document, as of its cut-off (D20, D26).

    `own` counts records of the top unit itself; `children` each direct child's subtree; `figures` is the whole
    subtree, and equals `own` plus the sum of `children` (checked by `reconciles`).
    """

    top: UnitRef
    document: uuid.UUID
    document_number: str
    document_title: str
    kind: str
    """`preliminary` (sơ kết) or `final` (tổng kết)."""
    kind_vi: str
    due: date
    cut_off: date
    today: date
    figures: Figures
    own: Figures
    children: tuple[LevelRow, ...]
    bases: tuple[LevelRow, ...] = ()
    """Essays by member unit (cells and base organisations), for the appendix."""
    late: tuple[LateItem, ...] = ()

    @property
    def reconciles(self) -> bool:
        return self.own + total(r.figures for r in self.children) == self.figures
