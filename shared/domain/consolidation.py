"""Consolidated figures of a review (D20, D26): one set of sections per subtree, added level by level.

Every figure is a count that adds up: a level's figures are its own records' figures plus the sum of its
children's subtrees. Rates and means are derived for display only and never added.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from typing import Any

from shared.domain.deadlines import Timeliness
from shared.domain.formatting import format_percent
from shared.domain.grades import Band
from shared.domain.programmes import target_state
from shared.domain.surveys import Answer, Question

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
"""Sections of a consolidated report, in order."""
GROUP_LABELS_VI: Mapping[str, str] = {"member": "Đảng viên", "cadre": "Cán bộ", "public": "Quần chúng"}
"""Respondent groups (D22), in the order the report lists them."""


def _add_fields(a: Any, b: Any) -> Any:
    """A dataclass of additive fields, field by field."""
    return type(a)(*(getattr(a, f.name) + getattr(b, f.name) for f in fields(a)))


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
        result: ReportFigures = _add_fields(self, other)
        return result

    @property
    def completeness(self) -> str:
        return format_percent(self.received, self.expected)

    @property
    def timeliness(self) -> str:
        return format_percent(self.on_time, self.expected)


@dataclass(frozen=True, slots=True)
class ProgrammeFigures:
    """Action programmes on the document issued by the cut-off (D14) and their targets as of it (D15, D18)."""

    programmes: int = 0
    units: int = 0
    """Units that built at least one."""
    targets: int = 0
    reported: int = 0
    """Targets with a progress report dated on or before the cut-off."""
    met: int = 0
    """Targets whose latest value reported by the cut-off meets them (`target_met`)."""
    overdue: int = 0
    """Targets whose deadline passed before the cut-off and that were not met by then."""

    def __add__(self, other: ProgrammeFigures) -> ProgrammeFigures:
        result: ProgrammeFigures = _add_fields(self, other)
        return result

    @property
    def met_rate(self) -> str:
        return format_percent(self.met, self.targets)

    @property
    def reporting_rate(self) -> str:
        return format_percent(self.reported, self.targets)


@dataclass(frozen=True, slots=True)
class TargetState:
    """A target of a programme with its latest value reported by the cut-off, if any."""

    baseline: Decimal
    target_value: Decimal
    deadline: date
    latest: Decimal | None


def programme_figures(targets: Iterable[TargetState], cut_off: date, *, new_unit: bool) -> ProgrammeFigures:
    """One programme's figures; `new_unit` when no other programme of its unit was counted yet."""
    n = reported = met = overdue = 0
    for t in targets:
        n += 1
        state = target_state(t.baseline, t.target_value, t.deadline, t.latest, cut_off)
        reported += t.latest is not None
        met += state == "met"
        overdue += state == "overdue"
    return ProgrammeFigures(1, int(new_unit), n, reported, met, overdue)


@dataclass(frozen=True, slots=True)
class QuestionFigures:
    """One question's additive figures over a set of responses (D22); the mean is derived, never added."""

    key: str
    kind: str
    text: str
    answered: int = 0
    counts: Mapping[str, int] = field(default_factory=dict)
    """Choice questions: responses per option (a multiple-choice response counts once per option it chose);
    scale questions: responses per point, as text (`"1"` ... `"5"`)."""
    total: Decimal = Decimal(0)
    """Scale and number questions: the sum of the values given; `answered` counts them."""

    def __add__(self, other: QuestionFigures) -> QuestionFigures:
        return QuestionFigures(
            self.key,
            self.kind,
            self.text,
            self.answered + other.answered,
            _add_maps(self.counts, other.counts),
            self.total + other.total,
        )

    @property
    def mean(self) -> Decimal | None:
        if self.kind not in ("scale", "number") or not self.answered:
            return None
        return self.total / self.answered


@dataclass(frozen=True, slots=True)
class QuestionnaireFigures:
    """Responses to one questionnaire on the document, answered by the cut-off: counted by respondent group, and
    per question in the questionnaire's order."""

    title: str
    by_group: Mapping[str, int] = field(default_factory=dict)
    questions: tuple[QuestionFigures, ...] = ()

    def __add__(self, other: QuestionnaireFigures) -> QuestionnaireFigures:
        return QuestionnaireFigures(
            self.title,
            _add_maps(self.by_group, other.by_group),
            tuple(a + b for a, b in zip(self.questions, other.questions, strict=True)),
        )

    @property
    def responses(self) -> int:
        return sum(self.by_group.values())

    def group(self, name: str) -> int:
        return self.by_group.get(name, 0)


def questionnaire_figures(
    title: str, questions: Sequence[Question], answered: Iterable[tuple[str, Sequence[Answer], int]]
) -> QuestionnaireFigures:
    """Figures over `answered`: (respondent group, answers, how many responses gave exactly those answers).

    Answers to questions the questionnaire lacks, and options it does not offer, are ignored.
    """
    by_group: dict[str, int] = {}
    counts = {q.key: _zero_counts(q) for q in questions}
    totals = dict.fromkeys(counts, Decimal(0))
    given = dict.fromkeys(counts, 0)
    kinds = {q.key: q.kind for q in questions}
    for group, answers, n in answered:
        by_group[group] = by_group.get(group, 0) + n
        for a in answers:
            kind = kinds.get(a.question)
            if kind in ("single", "multiple"):
                for choice in a.choices:
                    if choice in counts[a.question]:
                        counts[a.question][choice] += n
            elif kind in ("scale", "number"):
                if a.value is None:
                    continue
                totals[a.question] += a.value * n
                if kind == "scale":
                    point = str(int(a.value))
                    counts[a.question][point] = counts[a.question].get(point, 0) + n
            elif kind is None or not a.text.strip():
                continue
            given[a.question] += n
    return QuestionnaireFigures(
        title,
        by_group,
        tuple(QuestionFigures(q.key, q.kind, q.text, given[q.key], counts[q.key], totals[q.key]) for q in questions),
    )


def _zero_counts(q: Question) -> dict[str, int]:
    if q.kind in ("single", "multiple"):
        return dict.fromkeys(q.options, 0)
    if q.kind == "scale":
        return {str(p): 0 for p in range(q.scale_min, q.scale_max + 1)}
    return {}


@dataclass(frozen=True, slots=True)
class SurveyFigures:
    """Questionnaires on the document with at least one response in the subtree (D22), by questionnaire id."""

    questionnaires: Mapping[uuid.UUID, QuestionnaireFigures] = field(default_factory=dict)

    def __add__(self, other: SurveyFigures) -> SurveyFigures:
        merged = dict(self.questionnaires)
        for k, q in other.questionnaires.items():
            merged[k] = merged[k] + q if k in merged else q
        return SurveyFigures(merged)

    @property
    def responses(self) -> int:
        return sum(q.responses for q in self.questionnaires.values())

    def group(self, name: str) -> int:
        return sum(q.group(name) for q in self.questionnaires.values())

    def ordered(self) -> list[tuple[uuid.UUID, QuestionnaireFigures]]:
        """By title, for display."""
        return sorted(self.questionnaires.items(), key=lambda item: (item[1].title, str(item[0])))


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
    """All sections for one subtree."""

    essays: EssayFigures = field(default_factory=EssayFigures)
    study: StudyFigures = field(default_factory=StudyFigures)
    propaganda: PropagandaFigures = field(default_factory=PropagandaFigures)
    reports: ReportFigures = field(default_factory=ReportFigures)
    programmes: ProgrammeFigures = field(default_factory=ProgrammeFigures)
    surveys: SurveyFigures = field(default_factory=SurveyFigures)

    def __add__(self, other: Figures) -> Figures:
        result: Figures = _add_fields(self, other)
        return result


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
