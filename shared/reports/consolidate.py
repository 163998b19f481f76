"""Consolidation over the database (D20, D26): SQL GROUP BYs over the unit paths, added up level by level.

A unit's path is its ancestors' ids, each `/` + 32 hex digits, so the first `len(top.path) + 33` characters of
any path below `top` name the child subtree it belongs to. Essays and expected reports are read once per unit and
added into each grouping here (a few thousand rows); the small sections are grouped in SQL by that prefix (each
child's subtree) and by a constant (the whole). Nothing here loops over members or essays in Python.
"""

from __future__ import annotations

import contextlib
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import String, Uuid, and_, any_, case, cast, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from shared.api.calendar import document_milestones
from shared.api.documents import visible_document
from shared.api.scope import UnitInfo
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
    PropagandaFigures,
    ReportFigures,
    StudyFigures,
    UnitRef,
    report_figures,
)
from shared.domain.deadlines import Timeliness, timeliness
from shared.domain.grades import Band
from shared.domain.obligations import OBLIGED
from shared.domain.tree import UnitKind
from shared.records.essays import ESSAY_GRADE
from shared.records.members import MEMBER
from shared.records.reviews import REVIEW_REPORT
from shared.records.rosters import ROSTER_COUNT, RosterCountRecord, roster_count_id
from shared.records.study import PROPAGANDA, STUDY_SESSION
from shared.sync import store
from shared.sync.tables import UnitRow

SEGMENT = 33
"""Characters one unit adds to a path: `/` and 32 hex digits."""
REPORTING_KINDS = (str(UnitKind.COMMITTEE), str(UnitKind.BASE_ORGANISATION))
"""Units expected to hold and report their own review (D21); cells report through their base organisation."""

Key = Callable[[Any], ColumnElement[Any]]
"""Builds the grouping expression from the units table joined in a query."""

_units = UnitRow.__table__


def child_key(top: UnitInfo) -> Key:
    length = len(top.path) + SEGMENT
    return lambda u: func.substr(u.c.path, 1, length)


def whole_key(_top: UnitInfo) -> Key:
    return lambda _u: cast(literal("*"), String)


def _in_subtree(u: Any, top: UnitInfo) -> ColumnElement[bool]:
    inside: ColumnElement[bool] = u.c.path.startswith(top.path, autoescape=True)
    return inside


async def essay_figures(
    conn: AsyncConnection, top: UnitInfo, document: uuid.UUID, cut_off: date, paths: Mapping[uuid.UUID, str]
) -> dict[str, EssayCounts]:
    """Latest attempt per member as of the cut-off (D13, D20) and roster counts, per unit path (D12).

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

    if conn.dialect.name == "postgresql":
        # The unit ids as one array: PostgreSQL then knows how many rows match and hashes the join; a
        # path-prefix subquery is estimated at a handful of units and planned as 120,000 index probes.
        in_subtree: ColumnElement[bool] = g.c.member_unit == any_(
            cast(literal(list(paths), ARRAY(Uuid())), ARRAY(Uuid()))
        )
    else:
        in_subtree = g.c.member_unit.in_(select(_units.c.id).where(_in_subtree(_units, top)))
    obliged = (g.c.obligation == OBLIGED).label("obliged")
    # Each member's latest attempt up to the cut-off is the one with no later attempt (D13); a rewrite is a latest
    # attempt with an earlier one, looked up only for attempts after the first (a few percent).
    stmt = (
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
            in_subtree,
            ~other_attempt(newer=True),
        )
        .group_by(g.c.member_unit, obliged, g.c.band)
    )
    # Per unit, two groups (obliged, encouraged) of the counters in `_FIELDS` order, added as plain integers.
    counts: dict[uuid.UUID, list[int]] = {}
    for row in await conn.execute(stmt):
        vec = counts.setdefault(row.member_unit, [0] * _WIDTH)
        at = 0 if row.obliged else len(_FIELDS)
        vec[at + _WROTE] += row.n
        vec[at + _BAND_AT[row.band]] += row.n
        vec[at + _REWRITTEN] += int(row.rewritten or 0)
        if row.band == _WEAK:
            vec[at + _OPEN] += row.n
    rc = ROSTER_COUNT.table
    u = _units.alias("u")
    rosters = (
        select(rc.c.owner, rc.c.obliged, rc.c.encouraged)
        .select_from(rc)
        .join(u, u.c.id == rc.c.owner)
        .where(_in_subtree(u, top), rc.c.deleted.is_(False))
    )
    for r in await conn.execute(rosters):
        vec = counts.setdefault(r.owner, [0] * _WIDTH)
        vec[_MEMBERS] += int(r.obliged or 0)
        vec[len(_FIELDS) + _MEMBERS] += int(r.encouraged or 0)
    by_path: dict[str, list[int]] = {}
    for unit, vec in counts.items():
        path = paths.get(unit)
        if path is None:  # pragma: no cover - a member unit missing from the tree is a broken tree: say so
            raise RuntimeError(f"essays or a roster count of unknown unit {unit}")
        held = by_path.get(path)  # a merged-away unit may share its path with the living one (D1a)
        by_path[path] = vec if held is None else [a + b for a, b in zip(held, vec, strict=True)]
    return by_path


_FIELDS = ("members", "wrote", *(str(b) for b in BANDS), "rewrites_open", "rewritten")
_MEMBERS, _WROTE, _OPEN, _REWRITTEN = 0, 1, len(_FIELDS) - 2, len(_FIELDS) - 1
_BAND_AT = {str(b): 2 + i for i, b in enumerate(BANDS)}
_WEAK = str(Band.WEAK)
_WIDTH = 2 * len(_FIELDS)
EssayCounts = list[int]
"""A unit's or a group's essay counters: obliged then encouraged, each in `_FIELDS` order."""


def _group_essays(vec: EssayCounts, at: int) -> GroupEssays:
    return GroupEssays(
        members=vec[at + _MEMBERS],
        wrote=vec[at + _WROTE],
        bands={band: vec[at + i] for band, i in _BAND_AT.items()},
        rewrites_open=vec[at + _OPEN],
        rewritten=vec[at + _REWRITTEN],
    )


def essay_groups(by_path: Mapping[str, EssayCounts], group: Callable[[str], str]) -> dict[str, EssayFigures]:
    """Add per-unit counters into coarser groups (`group` maps a unit's path to its group's key)."""
    sums: dict[str, EssayCounts] = {}
    for path, vec in by_path.items():
        key = group(path)
        held = sums.get(key)
        sums[key] = list(vec) if held is None else [a + b for a, b in zip(held, vec, strict=True)]
    return {k: EssayFigures(_group_essays(v, 0), _group_essays(v, len(_FIELDS))) for k, v in sums.items()}


async def study_figures(
    conn: AsyncConnection, top: UnitInfo, key: Key, document: uuid.UUID, cut_off: date
) -> dict[str, StudyFigures]:
    """Study sessions on the document held up to the cut-off (D8), by the organising unit's group."""
    s = STUDY_SESSION.table
    u = _units.alias("u")
    k = key(u).label("k")
    stmt = (
        select(
            k,
            s.c.form,
            func.count().label("n"),
            func.sum(s.c.invited).label("invited"),
            func.sum(s.c.attended).label("attended"),
        )
        .select_from(s)
        .join(u, u.c.id == s.c.owner)
        .where(
            _in_subtree(u, top),
            s.c.deleted.is_(False),
            s.c.held_on <= cut_off,
            # The document list is a JSON array of canonical UUID strings on both engines.
            cast(s.c.documents, String).contains(str(document)),
        )
        .group_by(k, s.c.form)
    )
    result: dict[str, StudyFigures] = defaultdict(StudyFigures)
    for r in await conn.execute(stmt):
        result[r.k] = result[r.k] + StudyFigures(r.n, int(r.invited or 0), int(r.attended or 0), {r.form: r.n})
    return dict(result)


async def propaganda_figures(
    conn: AsyncConnection, top: UnitInfo, key: Key, document: uuid.UUID, cut_off: date
) -> dict[str, PropagandaFigures]:
    """Propaganda on the document by channel (D9), for periods that began by the cut-off."""
    p = PROPAGANDA.table
    u = _units.alias("u")
    k = key(u).label("k")
    stmt = (
        select(k, p.c.channel, func.sum(p.c.count).label("n"), func.sum(p.c.reached).label("reached"))
        .select_from(p)
        .join(u, u.c.id == p.c.owner)
        .where(_in_subtree(u, top), p.c.deleted.is_(False), p.c.period_start <= cut_off, p.c.document == document)
        .group_by(k, p.c.channel)
    )
    result: dict[str, PropagandaFigures] = defaultdict(PropagandaFigures)
    for r in await conn.execute(stmt):
        add = PropagandaFigures({r.channel: ChannelFigures(int(r.n or 0), int(r.reached or 0))})
        result[r.k] = result[r.k] + add
    return dict(result)


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
    top: UnitInfo,
    document: uuid.UUID,
    kind: str,
    due_by_depth: Mapping[int, date],
    today: date,
) -> list[Expected]:
    """Review reports expected from `top` and the reporting units below it (D21, D25b), and each one's timeliness.

    One row per expected unit (at most a few thousand, never per member); armed-forces units plan their own (D3).
    """
    r = REVIEW_REPORT.table
    u = _units.alias("u")
    held = (
        select(r.c.owner, func.min(r.c.held_on).label("held_on"))
        .where(r.c.document == document, r.c.kind == kind, r.c.deleted.is_(False))
        .group_by(r.c.owner)
        .subquery("held")
    )
    stmt = (
        select(u.c.id, u.c.path, u.c.depth, held.c.held_on)
        .select_from(u)
        .outerjoin(held, held.c.owner == u.c.id)
        .where(
            _in_subtree(u, top),
            u.c.deleted.is_(False),
            u.c.valid_to.is_(None),
            u.c.armed_forces.is_(False),
            u.c.kind.in_(REPORTING_KINDS),
        )
    )
    fallback = min(due_by_depth.values())
    result = []
    for row in await conn.execute(stmt):
        due = due_by_depth.get(row.depth) or fallback
        status = timeliness(due, today=today, submitted_on=row.held_on)
        result.append(Expected(row.id, row.path, row.depth, due, status, row.held_on))
    return result


def report_groups(expected: Iterable[Expected], group: Callable[[str], str]) -> dict[str, ReportFigures]:
    statuses: dict[str, list[Timeliness]] = defaultdict(list)
    for item in expected:
        statuses[group(item.path)].append(item.status)
    return {k: report_figures(v) for k, v in statuses.items()}


async def figures_by(
    conn: AsyncConnection,
    top: UnitInfo,
    key: Key,
    *,
    document: uuid.UUID,
    cut_off: date,
    essays: Mapping[str, EssayFigures],
    reports: Mapping[str, ReportFigures],
) -> dict[str, Figures]:
    """Every section by `key`; essays and reports come rolled up from their per-unit pass."""
    study = await study_figures(conn, top, key, document, cut_off)
    propaganda = await propaganda_figures(conn, top, key, document, cut_off)
    groups = {*essays, *study, *propaganda, *reports}
    return {
        g: Figures(
            essays.get(g, EssayFigures()),
            study.get(g, StudyFigures()),
            propaganda.get(g, PropagandaFigures()),
            reports.get(g, ReportFigures()),
        )
        for g in groups
    }


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


async def _tree(conn: AsyncConnection, top: UnitInfo) -> tuple[dict[str, UnitRef], dict[uuid.UUID, str]]:
    """The subtree's units by path, and every unit's path by id (merged-away units included)."""
    u = _units
    stmt = select(u.c.id, u.c.code, u.c.name, u.c.level, u.c.depth, u.c.path, u.c.valid_to).where(
        _in_subtree(u, top), u.c.deleted.is_(False)
    )
    refs: dict[str, UnitRef] = {}
    paths: dict[uuid.UUID, str] = {}
    # A living unit wins its path over a merged-away one that kept it (D1a).
    for row in sorted(await conn.execute(stmt), key=lambda r: r.valid_to is None):
        refs[row.path] = UnitRef(row.id, row.code, row.name, row.level, row.depth)
        paths[row.id] = row.path
    return refs, paths


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

    The cut-off is the review's due date unless given (any date may be asked for). Lower units' reports are due
    on the bottom-up schedule of that review (D21, D25a).
    """
    doc = await visible_document(conn, top, document, "document")
    review = ReviewKind[kind.upper()]
    milestone = next(m for m in await document_milestones(conn, top, [doc], today) if m.kind == review.name.lower())
    cut = cut_off or milestone.cut_off
    due_by_depth = {s.depth: s.due for s in milestone.steps} or {top.depth: milestone.due}
    refs, paths = await _tree(conn, top)
    async with _sort_memory(conn):
        by_unit = await essay_figures(conn, top, document, cut, paths)
    expected = await expected_reports(conn, top, document, review.name.lower(), due_by_depth, today)
    child_length = len(top.path) + SEGMENT

    def child(path: str) -> str:
        return path[:child_length]

    def everything(_path: str) -> str:
        return "*"

    common: dict[str, Any] = {"document": document, "cut_off": cut}
    whole = (
        await figures_by(
            conn,
            top,
            whole_key(top),
            essays=essay_groups(by_unit, everything),
            reports=report_groups(expected, everything),
            **common,
        )
    ).get("*", Figures())
    grouped = await figures_by(
        conn, top, child_key(top), essays=essay_groups(by_unit, child), reports=report_groups(expected, child), **common
    )
    own = grouped.pop(top.path, Figures())
    missing = [p for p in grouped if p not in refs]
    if missing:  # pragma: no cover - a path with no unit means a broken tree; say so rather than drop figures
        raise RuntimeError(f"figures under unknown unit paths: {missing[:3]}")
    children = sorted((LevelRow(refs[path], figures) for path, figures in grouped.items()), key=lambda r: r.unit.code)
    bases: list[LevelRow] = []
    if with_bases:
        bases = sorted(
            (LevelRow(refs[p], Figures(essays=e)) for p, e in essay_groups(by_unit, str).items() if p in refs),
            key=lambda row: row.unit.code,
        )
    # Reports that came in late first, then the missing ones from the top of the tree down (D25b).
    late = tuple(
        LateItem(refs[e.path], e.due, e.status, e.held_on)
        for e in sorted(
            (e for e in expected if e.status in (Timeliness.LATE, Timeliness.OVERDUE)),
            key=lambda e: (e.status is not Timeliness.LATE, e.depth, e.due, refs[e.path].code),
        )
    )
    top_ref = refs.get(top.path) or UnitRef(top.id, top.code, top.name, "", top.depth)
    return Consolidation(
        top=top_ref,
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
    changed = []
    for rid, owner in ids.items():
        counts = per_unit[owner]
        obliged = counts.get(OBLIGED, 0)
        encouraged = sum(v for k_, v in counts.items() if k_ != OBLIGED)
        old = held.get(rid)
        if old is not None and (old.obliged, old.encouraged, dict(old.by_category)) == (obliged, encouraged, counts):
            continue
        changed.append(
            RosterCountRecord(
                id=rid,
                owner=owner,
                audience=None,
                rev=(old.rev if old is not None else 0) + 1,
                deleted=False,
                as_of=as_of,
                obliged=obliged,
                encouraged=encouraged,
                by_category=counts,
            )
        )
    await store.apply(conn, ROSTER_COUNT, changed, origin=None)
    return len(changed)


__all__ = ["consolidate", "refresh_roster_counts"]
