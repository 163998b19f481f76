"""Consolidation over the database (D20, D26): SQL GROUP BYs over the unit paths, added up level by level.

A unit's path is its ancestors' ids, each `/` + 32 hex digits, so the first `len(top.path) + 33` characters of
any path below `top` name the child subtree it belongs to. Essays and expected reports are read once per unit and
added into each grouping here (a few thousand rows); the small sections are grouped in SQL by that prefix (each
child's subtree) and by a constant (the whole). Programmes and survey answers are JSON, so they finish in Python on
one row per programme, per reported target and per distinct answer set. Nothing here loops over members or essays
in Python.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from shared.calendar.records import REVIEW_REPORT
from shared.calendar.service import document_milestones
from shared.consolidation.tree import Then, among, rollup, tree_then
from shared.core.scope import UnitInfo
from shared.documents.service import visible_document
from shared.domain.calendar import ReviewKind
from shared.domain.consolidation import (
    ChannelFigures,
    Consolidation,
    EssayFigures,
    Figures,
    LateItem,
    LevelRow,
    ProgrammeFigures,
    PropagandaFigures,
    ReportFigures,
    StudyFigures,
    SurveyFigures,
    questionnaire_figures,
    report_figures,
)
from shared.domain.deadlines import Timeliness, timeliness
from shared.essays.figures import essay_figures, essay_groups
from shared.programmes import service as programmes_service
from shared.study.records import PROPAGANDA, STUDY_SESSION
from shared.surveys import service as surveys_service


async def study_figures(
    conn: AsyncConnection, then: Then, document: uuid.UUID, cut_off: date
) -> dict[uuid.UUID, StudyFigures]:
    """Study sessions on the document held up to the cut-off (D8), per organising unit."""
    s = STUDY_SESSION.table
    stmt = (
        select(
            s.c.owner,
            s.c.form,
            func.count().label("n"),
            func.sum(s.c.invited).label("invited"),
            func.sum(s.c.attended).label("attended"),
        )
        .where(
            among(conn, s.c.owner, then.counts_in),
            s.c.deleted.is_(False),
            s.c.held_on <= cut_off,
            # The document list is a JSON array of canonical UUID strings on both engines.
            cast(s.c.documents, String).contains(str(document)),
        )
        .group_by(s.c.owner, s.c.form)
    )
    result: dict[uuid.UUID, StudyFigures] = defaultdict(StudyFigures)
    for r in await conn.execute(stmt):
        result[r.owner] += StudyFigures(r.n, int(r.invited or 0), int(r.attended or 0), {r.form: r.n})
    return dict(result)


async def propaganda_figures(
    conn: AsyncConnection, then: Then, document: uuid.UUID, cut_off: date
) -> dict[uuid.UUID, PropagandaFigures]:
    """Propaganda on the document by channel (D9), for periods that began by the cut-off, per unit."""
    p = PROPAGANDA.table
    stmt = (
        select(p.c.owner, p.c.channel, func.sum(p.c.count).label("n"), func.sum(p.c.reached).label("reached"))
        .where(
            among(conn, p.c.owner, then.counts_in),
            p.c.deleted.is_(False),
            p.c.period_start <= cut_off,
            p.c.document == document,
        )
        .group_by(p.c.owner, p.c.channel)
    )
    result: dict[uuid.UUID, PropagandaFigures] = defaultdict(PropagandaFigures)
    for r in await conn.execute(stmt):
        result[r.owner] += PropagandaFigures({r.channel: ChannelFigures(int(r.n or 0), int(r.reached or 0))})
    return dict(result)


def survey_groups(rows: surveys_service.SurveyRows, group: Callable[[uuid.UUID], str]) -> dict[str, SurveyFigures]:
    """Count the rows of the units of each group once (the province has thousands of answering units)."""
    grouped: dict[str, dict[uuid.UUID, surveys_service.Answered]] = {}
    for unit, by_questionnaire in rows.per_unit.items():
        mine = grouped.setdefault(group(unit), {})
        for qid, answered in by_questionnaire.items():
            mine.setdefault(qid, []).extend(answered)
    return {
        key: SurveyFigures(
            {qid: questionnaire_figures(*rows.questionnaires[qid], answered) for qid, answered in by_q.items()}
        )
        for key, by_q in grouped.items()
    }


@dataclass(frozen=True, slots=True)
class Expected:
    """A review report expected from one unit (D21, D25b) and its timeliness."""

    unit: uuid.UUID
    path: str
    depth: int
    due: date
    status: Timeliness
    held_on: date | None


async def expected_reports(
    conn: AsyncConnection,
    then: Then,
    document: uuid.UUID,
    kind: str,
    due_by_depth: Mapping[int, date],
    today: date,
) -> list[Expected]:
    """Review reports expected from the reporting units of the subtree then (D21, D25b), each with its timeliness.

    One row per expected unit (at most a few thousand, never per member).
    """
    r = REVIEW_REPORT.table
    held = select(r.c.owner, func.min(r.c.held_on).label("held_on")).where(
        r.c.document == document,
        r.c.kind == kind,
        r.c.deleted.is_(False),
        among(conn, r.c.owner, [unit for unit, _path, _depth in then.reporting]),
    )
    held_on = {row.owner: row.held_on for row in await conn.execute(held.group_by(r.c.owner))}
    fallback = min(due_by_depth.values())
    result = []
    for unit, path, depth in then.reporting:
        due = due_by_depth.get(depth) or fallback
        submitted = held_on.get(unit)
        result.append(Expected(unit, path, depth, due, timeliness(due, today=today, submitted_on=submitted), submitted))
    return result


def report_groups(expected: Iterable[Expected], group: Callable[[str], str]) -> dict[str, ReportFigures]:
    statuses: dict[str, list[Timeliness]] = defaultdict(list)
    for item in expected:
        statuses[group(item.path)].append(item.status)
    return {k: report_figures(v) for k, v in statuses.items()}


async def consolidate(
    conn: AsyncConnection,
    top: UnitInfo,
    document: uuid.UUID,
    kind: str,
    *,
    today: date,
    cut_off: date | None = None,
    with_bases: bool = True,
) -> Consolidation:
    """`top`'s consolidated figures for the `kind` review of `document` (D20, D26).

    The cut-off is the review's due date unless given (any date may be asked for); figures are grouped by the
    tree as it stood on the cut-off (D1a). Lower units' reports are due on the bottom-up schedule of that review
    (D21, D25a).
    """
    doc = await visible_document(conn, top, document, "document")
    review = ReviewKind[kind.upper()]
    milestone = next(m for m in await document_milestones(conn, top, [doc], today) if m.kind == review.name.lower())
    cut = cut_off or milestone.cut_off
    due_by_depth = {s.depth: s.due for s in milestone.steps} or {top.depth: milestone.due}
    then = await tree_then(conn, top, cut)
    essays = await essay_figures(conn, then, document, cut)
    study = await study_figures(conn, then, document, cut)
    propaganda = await propaganda_figures(conn, then, document, cut)
    expected = await expected_reports(conn, then, document, review.name.lower(), due_by_depth, today)

    def in_subtree(column: Any) -> ColumnElement[bool]:
        return among(conn, column, then.counts_in)

    programmes = await programmes_service.unit_figures(conn, in_subtree, document, cut)
    surveys = await surveys_service.survey_rows(conn, in_subtree, document, cut)

    def figures(by: Callable[[str], str]) -> dict[str, Figures]:
        per = (
            essay_groups(essays, then.group(by)),
            rollup(study, then.group(by)),
            rollup(propaganda, then.group(by)),
            report_groups(expected, by),
            rollup(programmes, then.group(by)),
            survey_groups(surveys, then.group(by)),
        )
        return {
            g: Figures(
                per[0].get(g, EssayFigures()),
                per[1].get(g, StudyFigures()),
                per[2].get(g, PropagandaFigures()),
                per[3].get(g, ReportFigures()),
                per[4].get(g, ProgrammeFigures()),
                per[5].get(g, SurveyFigures()),
            )
            for g in set().union(*per)
        }

    whole = figures(lambda _path: "*").get("*", Figures())
    grouped = figures(then.child)
    own = grouped.pop(then.path, Figures())
    children = sorted((LevelRow(then.units[p], f) for p, f in grouped.items()), key=lambda row: row.unit.code)
    bases: list[LevelRow] = []
    if with_bases:
        # Thousands of rows with essays only: the other sections share one empty instance each (all frozen).
        e0 = Figures()
        zeros = (e0.study, e0.propaganda, e0.reports, e0.programmes, e0.surveys)
        bases = sorted(
            (LevelRow(then.units[p], Figures(e, *zeros)) for p, e in essay_groups(essays, then.group(str)).items()),
            key=lambda row: row.unit.code,
        )
    # Reports that came in late first, then the missing ones from the top of the tree down (D25b).
    late = tuple(
        LateItem(then.units[e.path], e.due, e.status, e.held_on)
        for e in sorted(
            (e for e in expected if e.status in (Timeliness.LATE, Timeliness.OVERDUE)),
            key=lambda e: (e.status is not Timeliness.LATE, e.depth, e.due, then.units[e.path].code),
        )
    )
    return Consolidation(
        top=then.top,
        document=document,
        document_number=doc.number,
        document_title=doc.title,
        kind=review.name.lower(),
        kind_vi=review.value,
        due=milestone.due,
        cut_off=cut,
        today=today,
        figures=whole,
        own=own,
        children=tuple(children),
        bases=tuple(bases),
        late=late,
    )
