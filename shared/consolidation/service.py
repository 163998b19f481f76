"""Consolidation over the database (D20, D26): SQL GROUP BYs over the unit paths, added up level by level.

A unit's path is its ancestors' ids, each `/` + 32 hex digits, so the first `len(top.path) + 33` characters of
any path below `top` name the child subtree it belongs to. Essays and expected reports are read once per unit and
added into each grouping here (a few thousand rows); the small sections are grouped in SQL by that prefix (each
child's subtree) and by a constant (the whole). Programmes and survey answers are JSON, so they finish in Python on
one row per programme, per reported target and per distinct answer set. Nothing here loops over members or essays
in Python.
"""

from __future__ import annotations

import contextlib
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import msgspec
from sqlalchemy import String, Uuid, and_, any_, case, cast, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from shared.calendar.api import document_milestones
from shared.calendar.records import REVIEW_REPORT
from shared.core.scope import UnitInfo
from shared.documents.api import visible_document
from shared.domain.calendar import ReviewKind
from shared.domain.consolidation import (
    BANDS,
    ChannelFigures,
    Consolidation,
    EssayFigures,
    Figures,
    GroupEssays,
    LateItem,
    LevelRow,
    ProgrammeFigures,
    PropagandaFigures,
    ReportFigures,
    StudyFigures,
    SurveyFigures,
    UnitRef,
    questionnaire_figures,
    report_figures,
)
from shared.domain.deadlines import Timeliness, timeliness
from shared.domain.grades import Band
from shared.domain.obligations import OBLIGED
from shared.domain.tree import Unit, UnitKind, tree_as_known
from shared.essays.records import ESSAY_GRADE
from shared.members.records import MEMBER
from shared.members.rosters import ROSTER_COUNT, RosterCountRecord, roster_count_id
from shared.programmes import service as programmes_service
from shared.study.records import PROPAGANDA, STUDY_SESSION
from shared.surveys import service as surveys_service
from shared.sync import store
from shared.sync.tables import UnitRow
from shared.units.records import load_units

SEGMENT = 33
"""Characters one unit adds to a path: `/` and 32 hex digits."""
REPORTING_KINDS = (str(UnitKind.COMMITTEE), str(UnitKind.BASE_ORGANISATION))
"""Units expected to hold and report their own review (D21); cells report through their base organisation."""

_units = UnitRow.__table__
_UUID_ARRAY = ARRAY(Uuid())
T = TypeVar("T", StudyFigures, PropagandaFigures, ProgrammeFigures)


@dataclass(frozen=True, slots=True)
class Then:
    """`top`'s subtree as it stood on the cut-off (D1a): the group every unit's records count in, and its units."""

    top: UnitRef
    path: str
    """`top`'s path then."""
    counts_in: dict[uuid.UUID, str]
    """Every unit whose records count in the subtree (closed and later units too) → the path they count under."""
    units: dict[str, UnitRef]
    """The subtree's units then, by their path then, as they were named then."""
    reporting: list[tuple[uuid.UUID, str, int]]
    """Units expected to report their review (D21): id, path and depth then; armed forces plan their own (D3)."""

    def child(self, path: str) -> str:
        """The direct child subtree (or `top` itself) a path belongs to."""
        return path[: len(self.path) + SEGMENT]

    def group(self, by: Callable[[str], str]) -> Callable[[uuid.UUID], str]:
        return lambda unit: by(self.counts_in[unit])


async def tree_then(conn: AsyncConnection, top: UnitInfo, day: date) -> Then:
    """The subtree as it stood on `day`: straight from the stored paths unless some unit has a history (D1a)."""
    changed = await conn.scalar(
        select(func.count())
        .select_from(_units)
        .where(
            _units.c.deleted.is_(False),
            (_units.c.valid_to.is_not(None)) | (func.json_array_length(_units.c.versions) > 1),
        )
    )
    if changed:
        return _then_from_history(top, await load_units(conn), day)
    u = _units
    stmt = select(u.c.id, u.c.code, u.c.name, u.c.level, u.c.depth, u.c.path, u.c.kind, u.c.armed_forces).where(
        u.c.path.startswith(top.path, autoescape=True), u.c.deleted.is_(False)
    )
    counts_in: dict[uuid.UUID, str] = {}
    units: dict[str, UnitRef] = {}
    reporting = []
    for row in await conn.execute(stmt):
        counts_in[row.id] = row.path
        units[row.path] = UnitRef(row.id, row.code, row.name, row.level, row.depth)
        if row.kind in REPORTING_KINDS and not row.armed_forces:
            reporting.append((row.id, row.path, row.depth))
    top_ref = units.get(top.path) or UnitRef(top.id, top.code, top.name, "", top.depth)
    return Then(top_ref, top.path, counts_in, units, reporting)


def _then_from_history(top: UnitInfo, held: list[Unit], day: date) -> Then:
    tree, counts_under = tree_as_known(held, day)
    if top.id not in tree.units:  # `top` did not exist yet: the figures can only follow today's tree
        tree, counts_under = tree_as_known(held, max(u.valid_from for u in held if u.id == top.id))
    top_path = tree.path(top.id)
    paths = {unit_id: tree.path(unit_id) for unit_id in tree.units}
    units: dict[str, UnitRef] = {}
    reporting = []
    for unit_id, path in paths.items():
        if not path.startswith(top_path):
            continue
        version = tree.version(unit_id)
        depth = path.count("/") - 2
        units[path] = UnitRef(unit_id, version.code, version.name, version.level, depth)
        if str(version.kind) in REPORTING_KINDS and not tree.units[unit_id].armed_forces:
            reporting.append((unit_id, path, depth))
    counts_in = {unit_id: paths[under] for unit_id, under in counts_under.items() if paths[under].startswith(top_path)}
    return Then(units[top_path], top_path, counts_in, units, reporting)


def _among(conn: AsyncConnection, column: Any, ids: Iterable[uuid.UUID]) -> ColumnElement[bool]:
    """`column` is one of `ids`: one bound parameter whatever the count."""
    if conn.dialect.name == "postgresql":
        # An array: PostgreSQL then knows how many units match and hashes the join, where a path-prefix subquery
        # is estimated at a handful of units and planned as one index probe per essay.
        among: ColumnElement[bool] = column == any_(cast(literal(list(ids), _UUID_ARRAY), _UUID_ARRAY))
        return among
    # SQLite keeps these UUIDs as 32-digit hex text.
    each = func.json_each(msgspec.json.encode([i.hex for i in ids]).decode()).table_valued("value")
    inside: ColumnElement[bool] = column.in_(select(each.c.value))
    return inside


def rollup(per_unit: Mapping[uuid.UUID, T], group: Callable[[uuid.UUID], str]) -> dict[str, T]:
    """Add per-unit figures into groups (`group` names the group a unit's records count in)."""
    result: dict[str, T] = {}
    for unit, figures in per_unit.items():
        key = group(unit)
        held = result.get(key)
        result[key] = figures if held is None else held + figures
    return result


async def essay_figures(
    conn: AsyncConnection, then: Then, document: uuid.UUID, cut_off: date
) -> dict[uuid.UUID, EssayCounts]:
    """Latest attempt per member as of the cut-off (D13, D20) and roster counts (D12), per unit.

    The one pass over the essays (the costly query) is grouped by member unit; `essay_groups` adds units into any
    coarser grouping, so the whole, the children and the appendix all come from it.
    """
    g = ESSAY_GRADE.table

    def other_attempt(newer: bool) -> ColumnElement[bool]:
        o = g.alias("later" if newer else "earlier")
        return (
            select(literal(1))
            .where(
                o.c.member == g.c.member,
                o.c.document == g.c.document,
                o.c.attempt > g.c.attempt if newer else o.c.attempt < g.c.attempt,
                o.c.deleted.is_(False),
                o.c.graded_on <= cut_off,
            )
            .exists()
        )

    # Each member's latest attempt up to the cut-off is the one with no later attempt (D13); a rewrite is a latest
    # attempt with an earlier one, looked up only for attempts after the first (a few percent).
    obliged = (g.c.obligation == OBLIGED).label("obliged")
    latest = (
        select(
            g.c.member_unit,
            obliged,
            g.c.band,
            func.count().label("n"),
            func.sum(case((and_(g.c.attempt > 1, other_attempt(newer=False)), 1), else_=0)).label("rewritten"),
        )
        .where(
            g.c.document == document,
            g.c.deleted.is_(False),
            g.c.graded_on <= cut_off,
            _among(conn, g.c.member_unit, then.counts_in),
            ~other_attempt(newer=True),
        )
        .group_by(g.c.member_unit, obliged, g.c.band)
        .subquery("latest")
    )
    # Pivoted to one row per unit, its counters in `_FIELDS` order (members come from the roster counts below):
    # a few thousand rows to read instead of one per unit, group and band.
    columns = []
    for group in (latest.c.obliged, ~latest.c.obliged):

        def tally(value: Any, *more: ColumnElement[bool], group: Any = group) -> ColumnElement[Any]:
            return func.coalesce(func.sum(case((and_(group, *more), value), else_=0)), 0)

        bands = [tally(latest.c.n, latest.c.band == band) for band in _BAND_NAMES]
        columns += [tally(latest.c.n), *bands, tally(latest.c.n, latest.c.band == _WEAK), tally(latest.c.rewritten)]
    stmt = select(latest.c.member_unit, *columns).group_by(latest.c.member_unit)
    counts: dict[uuid.UUID, EssayCounts] = {}
    async with _sort_memory(conn):
        rows = await conn.execute(stmt)
    half = len(_FIELDS) - 1
    for unit, *sums in rows:
        values = [int(v or 0) for v in sums]
        counts[unit] = [0, *values[:half], 0, *values[half:]]
    rc = ROSTER_COUNT.table
    rosters = select(rc.c.owner, rc.c.obliged, rc.c.encouraged).where(
        _among(conn, rc.c.owner, then.counts_in), rc.c.deleted.is_(False)
    )
    for r in await conn.execute(rosters):
        vec = counts.setdefault(r.owner, [0] * _WIDTH)
        vec[_MEMBERS] += int(r.obliged or 0)
        vec[len(_FIELDS) + _MEMBERS] += int(r.encouraged or 0)
    return counts


@contextlib.asynccontextmanager
async def _sort_memory(conn: AsyncConnection) -> AsyncIterator[None]:
    """PostgreSQL's default 4 MB per sort spills the province's essays to disk; this one query may take more."""
    if conn.dialect.name != "postgresql":
        yield
        return
    await conn.exec_driver_sql("SET work_mem = '64MB'")
    try:
        yield
    finally:
        await conn.exec_driver_sql("RESET work_mem")  # the connection goes back to a pool


_FIELDS = ("members", "wrote", *(str(b) for b in BANDS), "rewrites_open", "rewritten")
_MEMBERS, _WROTE, _OPEN, _REWRITTEN = 0, 1, len(_FIELDS) - 2, len(_FIELDS) - 1
_BAND_AT = {str(b): 2 + i for i, b in enumerate(BANDS)}
_BAND_NAMES = tuple(_BAND_AT)
_WEAK = str(Band.WEAK)
_WIDTH = 2 * len(_FIELDS)
EssayCounts = list[int]
"""A unit's or a group's essay counters: obliged then encouraged, each in `_FIELDS` order."""


def _group_essays(vec: EssayCounts, at: int) -> GroupEssays:
    bands = dict(zip(_BAND_NAMES, vec[at + 2 : at + 2 + len(_BAND_NAMES)], strict=True))
    return GroupEssays(vec[at + _MEMBERS], vec[at + _WROTE], bands, vec[at + _OPEN], vec[at + _REWRITTEN])


def essay_groups(
    per_unit: Mapping[uuid.UUID, EssayCounts], group: Callable[[uuid.UUID], str]
) -> dict[str, EssayFigures]:
    """Add per-unit counters into groups, as plain integers (the province has thousands of units)."""
    buckets: dict[str, list[EssayCounts]] = defaultdict(list)
    for unit, vec in per_unit.items():
        buckets[group(unit)].append(vec)
    sums = {k: [sum(column) for column in zip(*vecs, strict=True)] for k, vecs in buckets.items()}
    return {k: EssayFigures(_group_essays(v, 0), _group_essays(v, len(_FIELDS))) for k, v in sums.items()}


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
            _among(conn, s.c.owner, then.counts_in),
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
            _among(conn, p.c.owner, then.counts_in),
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
        _among(conn, r.c.owner, [unit for unit, _path, _depth in then.reporting]),
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

    def among(column: Any) -> ColumnElement[bool]:
        return _among(conn, column, then.counts_in)

    programmes = await programmes_service.unit_figures(conn, among, document, cut)
    surveys = await surveys_service.survey_rows(conn, among, document, cut)

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


async def refresh_roster_counts(conn: AsyncConnection, as_of: date) -> int:
    """Publish the member counts of every roster written on this instance (D12, D26); returns records revised.

    Only rosters written here (no origin) are counted: their unit's instance is the single writer of its count.
    """
    m = MEMBER.table
    stmt = (
        select(m.c.owner, m.c.obligation, func.count().label("n"))
        .where(m.c.deleted.is_(False), m.c.origin.is_(None))
        .group_by(m.c.owner, m.c.obligation)
    )
    per_unit: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    for row in await conn.execute(stmt):
        per_unit[row.owner][row.obligation] = int(row.n)
    written_here = select(m.c.owner).where(m.c.origin.is_(None)).distinct()
    for owner in (await conn.execute(written_here)).scalars():
        per_unit.setdefault(owner, {})
    if not per_unit:
        return 0
    rc = ROSTER_COUNT.table
    ids = {roster_count_id(owner): owner for owner in per_unit}
    held = {
        row.id: row
        for row in await conn.execute(select(*[rc.c[n] for n in ROSTER_COUNT.columns]).where(rc.c.id.in_(list(ids))))
    }
    changed = [
        rec
        for rid, owner in ids.items()
        if (rec := _revised_count(owner, per_unit[owner], held.get(rid), as_of)) is not None
    ]
    await store.apply(conn, ROSTER_COUNT, changed, origin=None)
    return len(changed)


def _revised_count(owner: uuid.UUID, counts: dict[str, int], old: Any, as_of: date) -> RosterCountRecord | None:
    """The next version of a unit's count record, or None when the held version already says the same."""
    obliged = counts.get(OBLIGED, 0)
    encouraged = sum(v for k_, v in counts.items() if k_ != OBLIGED)
    if old is not None and (old.obliged, old.encouraged, dict(old.by_category)) == (obliged, encouraged, counts):
        return None
    return RosterCountRecord(
        id=roster_count_id(owner),
        owner=owner,
        audience=None,
        rev=(old.rev if old is not None else 0) + 1,
        deleted=False,
        as_of=as_of,
        obliged=obliged,
        encouraged=encouraged,
        by_category=counts,
    )


async def refresh_roster_count(conn: AsyncConnection, owner: uuid.UUID, as_of: date) -> bool:
    """Publish one unit's member counts in the transaction that changed its roster (D12, D26); True if revised.

    Cheap enough for every roster write: one GROUP BY over the owner's members (indexed) and one key lookup.
    As in `refresh_roster_counts`, only members written here count: this instance is the roster's single writer.
    """
    m = MEMBER.table
    stmt = (
        select(m.c.obligation, func.count().label("n"))
        .where(m.c.owner == owner, m.c.deleted.is_(False), m.c.origin.is_(None))
        .group_by(m.c.obligation)
    )
    counts = {row.obligation: int(row.n) for row in await conn.execute(stmt)}
    rc = ROSTER_COUNT.table
    old = (
        await conn.execute(select(*[rc.c[n] for n in ROSTER_COUNT.columns]).where(rc.c.id == roster_count_id(owner)))
    ).first()
    if old is None and not counts:
        return False
    rec = _revised_count(owner, counts, old, as_of)
    if rec is not None:
        await store.apply(conn, ROSTER_COUNT, [rec], origin=None)
    return rec is not None


__all__ = ["consolidate", "refresh_roster_count", "refresh_roster_counts"]
