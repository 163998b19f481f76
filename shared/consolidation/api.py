"""Consolidated review figures (D20, D26) of a unit's subtree as JSON, and the same as .xlsx and .docx files.

Each section of `shared.domain.consolidation.Figures` has its own small struct and converter here, so a new section
is one struct, one function and one field of `FiguresOut`. Counts are integers; rates are percentages as numbers
(`87.5`), rounded half up to one place like the pages show them, and `null` when nothing was expected.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import anyio
import msgspec
from litestar import Controller, Response, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery

from shared.api.resource import Api, Viewed, attachment
from shared.consolidation.export_docx import write_docx
from shared.consolidation.export_xlsx import write_xlsx
from shared.consolidation.query import ConsolidationQuery, consolidation_for, review_kind
from shared.domain.consolidation import (
    BANDS,
    CHANNEL_LABELS_VI,
    CHANNELS,
    Consolidation,
    EssayFigures,
    Figures,
    GroupEssays,
    LateItem,
    LevelRow,
    ProgrammeFigures,
    PropagandaFigures,
    QuestionFigures,
    ReportFigures,
    StudyFigures,
    SurveyFigures,
    UnitRef,
)

MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def percent(part: int, whole: int) -> float | None:
    """`(7, 8)` → `87.5`; None when the whole is zero (the pages show `—`)."""
    if not whole:
        return None
    return float((Decimal(part) * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


class GroupOut(msgspec.Struct, frozen=True):
    """Essays of the obliged or the encouraged (D12), by each member's latest attempt (D13)."""

    members: int
    wrote: int
    participation_percent: float | None
    bands: dict[str, int]
    """Tốt, Khá, Trung bình, Yếu."""
    rewrites_open: int
    rewritten: int


class EssaysOut(msgspec.Struct, frozen=True):
    obliged: GroupOut
    encouraged: GroupOut
    wrote: int
    shortfall: int
    """Obliged members who wrote nothing; an encouraged member who wrote nothing is no shortfall (D12)."""
    bands: dict[str, int]
    rewrites_open: int


class StudyOut(msgspec.Struct, frozen=True):
    sessions: int
    invited: int
    attended: int
    attendance_percent: float | None
    by_form: dict[str, int]


class ChannelOut(msgspec.Struct, frozen=True):
    channel: str
    label_vi: str
    activities: int
    reached: int


class PropagandaOut(msgspec.Struct, frozen=True):
    channels: list[ChannelOut]
    """Every channel of D9, in the report's order, zero where nothing was recorded."""
    activities: int
    reached: int


class ReportsOut(msgspec.Struct, frozen=True):
    expected: int
    received: int
    on_time: int
    late: int
    overdue: int
    completeness_percent: float | None
    timeliness_percent: float | None


class ProgrammesOut(msgspec.Struct, frozen=True):
    """Action programmes issued by the cut-off (D14) and their targets' latest progress as of it (D15, D18)."""

    programmes: int
    units: int
    targets: int
    reported: int
    met: int
    overdue: int
    """Deadline passed before the cut-off, not met."""
    met_percent: float | None
    reporting_percent: float | None


class QuestionOut(msgspec.Struct, frozen=True):
    key: str
    kind: str
    text: str
    answered: int
    counts: dict[str, int]
    """Per option (choice questions) or per point (scale questions)."""
    total: Decimal | None
    """Sum of the values of a scale or number question."""
    mean: float | None
    """`total / answered`, rounded half up to two places; derived, never added."""


class QuestionnaireOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    title: str
    responses: int
    by_group: dict[str, int]
    """member, cadre, public (D22)."""
    questions: list[QuestionOut]


class SurveysOut(msgspec.Struct, frozen=True):
    """Responses answered by the cut-off to questionnaires on the document (D22)."""

    responses: int
    questionnaires: list[QuestionnaireOut]


class FiguresOut(msgspec.Struct, frozen=True):
    essays: EssaysOut
    study: StudyOut
    propaganda: PropagandaOut
    reports: ReportsOut
    programmes: ProgrammesOut
    surveys: SurveysOut


class UnitOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    code: str
    name: str
    level: str
    depth: int


class RowOut(msgspec.Struct, frozen=True):
    unit: UnitOut
    figures: FiguresOut
    """The child's whole subtree."""


class LateOut(msgspec.Struct, frozen=True):
    unit: UnitOut
    due: date
    status: str
    """`late` (held after its due date) or `overdue` (not held, past due), D25b."""
    status_vi: str
    held_on: date | None


class ConsolidationOut(msgspec.Struct, frozen=True):
    unit: uuid.UUID
    """The level consolidated: the caller's unit or one in its subtree (D4)."""
    unit_code: str
    unit_name: str
    document: uuid.UUID
    document_number: str
    document_title: str
    kind: str
    kind_vi: str
    due: date
    cut_off: date
    """Figures count records up to this day (D20): the review's due date unless another was asked for."""
    today: date
    reconciles: bool
    """`figures` equals `own` plus the sum of `children` (D26)."""
    figures: FiguresOut
    """The whole subtree."""
    own: FiguresOut
    """Records of the level itself."""
    children: list[RowOut]
    late: list[LateOut]


def _group(g: GroupEssays) -> GroupOut:
    bands = {str(b): g.band(b) for b in BANDS}
    return GroupOut(g.members, g.wrote, percent(g.wrote, g.members), bands, g.rewrites_open, g.rewritten)


def essays_out(e: EssayFigures) -> EssaysOut:
    bands = {str(b): e.band(b) for b in BANDS}
    return EssaysOut(_group(e.obliged), _group(e.encouraged), e.wrote, e.shortfall, bands, e.rewrites_open)


def study_out(s: StudyFigures) -> StudyOut:
    return StudyOut(s.sessions, s.invited, s.attended, percent(s.attended, s.invited), dict(s.by_form))


def propaganda_out(p: PropagandaFigures) -> PropagandaOut:
    names = [*CHANNELS, *(c for c in p.channels if c not in CHANNELS)]
    channels = [
        ChannelOut(c, CHANNEL_LABELS_VI.get(c, c), p.channel(c).activities, p.channel(c).reached) for c in names
    ]
    return PropagandaOut(channels, p.total.activities, p.total.reached)


def reports_out(r: ReportFigures) -> ReportsOut:
    return ReportsOut(
        r.expected,
        r.received,
        r.on_time,
        r.late,
        r.overdue,
        percent(r.received, r.expected),
        percent(r.on_time, r.expected),
    )


def programmes_out(p: ProgrammeFigures) -> ProgrammesOut:
    return ProgrammesOut(
        p.programmes,
        p.units,
        p.targets,
        p.reported,
        p.met,
        p.overdue,
        percent(p.met, p.targets),
        percent(p.reported, p.targets),
    )


def _question(q: QuestionFigures) -> QuestionOut:
    numeric = q.kind in ("scale", "number")
    mean = q.mean
    rounded = float(mean.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)) if mean is not None else None
    return QuestionOut(q.key, q.kind, q.text, q.answered, dict(q.counts), q.total if numeric else None, rounded)


def surveys_out(s: SurveyFigures) -> SurveysOut:
    return SurveysOut(
        s.responses,
        [
            QuestionnaireOut(qid, q.title, q.responses, dict(q.by_group), [_question(x) for x in q.questions])
            for qid, q in s.ordered()
        ],
    )


def figures_out(f: Figures) -> FiguresOut:
    return FiguresOut(
        essays_out(f.essays),
        study_out(f.study),
        propaganda_out(f.propaganda),
        reports_out(f.reports),
        programmes_out(f.programmes),
        surveys_out(f.surveys),
    )


def _unit(u: UnitRef) -> UnitOut:
    return UnitOut(u.id, u.code, u.name, u.level, u.depth)


def _row(r: LevelRow) -> RowOut:
    return RowOut(_unit(r.unit), figures_out(r.figures))


def _late(item: LateItem) -> LateOut:
    return LateOut(_unit(item.unit), item.due, item.status.name.lower(), item.status.value, item.held_on)


def consolidation_out(c: Consolidation) -> ConsolidationOut:
    return ConsolidationOut(
        unit=c.top.id,
        unit_code=c.top.code,
        unit_name=c.top.name,
        document=c.document,
        document_number=c.document_number,
        document_title=c.document_title,
        kind=c.kind,
        kind_vi=c.kind_vi,
        due=c.due,
        cut_off=c.cut_off,
        today=c.today,
        reconciles=c.reconciles,
        figures=figures_out(c.figures),
        own=figures_out(c.own),
        children=[_row(r) for r in c.children],
        late=[_late(i) for i in c.late],
    )


def file_name(c: Consolidation, extension: str) -> str:
    """`Tổng hợp sơ kết 15-NQ-TU - TU.xlsx`: what the office sees in its downloads folder."""
    return f"Tổng hợp {c.kind_vi.lower()} {c.document_number.replace('/', '-')} - {c.top.code}.{extension}"


def provide_query(
    document: FromQuery[uuid.UUID], kind: FromQuery[str], unit: Viewed = None, cut_off: FromQuery[date | None] = None
) -> ConsolidationQuery:
    """`kind`: preliminary (sơ kết) or final (tổng kết); `unit`: the caller's own by default; `cut_off`: the due date
    by default (D20)."""
    return ConsolidationQuery(document, review_kind(kind), unit, cut_off)


async def _export(
    api: Api, asked: ConsolidationQuery, render: Callable[[Consolidation], bytes], extension: str
) -> Response[bytes]:
    c = await api.read(lambda conn: consolidation_for(conn, api.caller, asked, with_bases=True))
    # Building the file is CPU work of up to a few seconds for a province: keep the event loop serving meanwhile.
    content = await anyio.to_thread.run_sync(render, c)
    return attachment(content, file_name(c, extension), MEDIA_TYPES[extension])


class ConsolidationController(Controller):
    path = "/consolidations"
    tags = ["consolidated reports"]  # noqa: RUF012
    dependencies = {"asked": Provide(provide_query, sync_to_thread=False)}  # noqa: RUF012

    @get("/")
    async def consolidation(
        self, api: NamedDependency[Api], asked: NamedDependency[ConsolidationQuery]
    ) -> ConsolidationOut:
        """A level's figures for one review of a document, up to the cut-off (D20, D26): whole, own, per child."""
        return consolidation_out(await api.read(lambda conn: consolidation_for(conn, api.caller, asked)))

    @get("/export.xlsx")
    async def export_xlsx(
        self, api: NamedDependency[Api], asked: NamedDependency[ConsolidationQuery]
    ) -> Response[bytes]:
        """The consolidated tables as .xlsx (the same figures as the JSON, plus essays per unit)."""
        return await _export(api, asked, lambda c: write_xlsx(c), "xlsx")

    @get("/export.docx")
    async def export_docx(
        self, api: NamedDependency[Api], asked: NamedDependency[ConsolidationQuery]
    ) -> Response[bytes]:
        """The review report as .docx, with its figures filled in and the narrative left to the lead agency (D24)."""
        return await _export(api, asked, lambda c: write_docx(c), "docx")
