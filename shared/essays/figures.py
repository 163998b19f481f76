"""Essay figures (D12, D13, D20): participation, bands and rewrites, counted once for every place that shows them.

The summary on the essays page and API, the consolidation, its .docx/.xlsx and the appendix all read these
counters, so one rule cannot give two answers. Grades count under the member's unit (`member_unit`), not under the
unit that graded them: a Party cell's essays are graded by the base organisation above it (D13) and still count for
the cell. Member counts come from the published roster counts (D12), so every level that holds them sees the same
figures, whether or not it holds the member list itself.
"""

from __future__ import annotations

import contextlib
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from shared.consolidation.tree import Then, among, tree_then
from shared.core.scope import UnitInfo, up_select
from shared.domain.consolidation import BANDS, EssayFigures, GroupEssays
from shared.domain.grades import Band
from shared.domain.obligations import OBLIGED
from shared.essays.records import ESSAY_GRADE
from shared.members.rosters import ROSTER_COUNT


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
            among(conn, g.c.member_unit, then.counts_in),
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
        among(conn, rc.c.owner, then.counts_in), rc.c.deleted.is_(False)
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


async def subtree_essays(
    conn: AsyncConnection, viewer: UnitInfo, document: uuid.UUID, day: date
) -> tuple[EssayFigures, dict[uuid.UUID, EssayFigures], bool]:
    """`viewer`'s whole subtree and each direct child's subtree as of `day`, and whether any roster count is held.

    The same counters as `consolidate(..., cut_off=day)`: the essays page and `GET /essays/summary` agree with the
    consolidation at every level (issue 11).
    """
    then = await tree_then(conn, viewer, day)
    per_unit = await essay_figures(conn, then, document, day)
    whole = essay_groups(per_unit, lambda _unit: "*").get("*", EssayFigures())
    by_child = essay_groups(per_unit, then.group(then.child))
    direct = [path for path in then.units if path != then.path and then.child(path) == path]
    children = {then.units[path].id: by_child.get(path, EssayFigures()) for path in direct}
    rc = ROSTER_COUNT.table
    counted = await conn.scalar(
        select(func.count()).where(among(conn, rc.c.owner, then.counts_in), rc.c.deleted.is_(False))
    )
    return whole, children, bool(counted)


def owed_rewrites(viewer: UnitInfo, document: uuid.UUID | None = None) -> Select[Any]:
    """Grades in the viewer's subtree that are each member's latest attempt on a document and are Yếu: a rewrite is
    owed (D13). The essays' rewrite list and what is due read the same rows."""
    table = ESSAY_GRADE.table
    scoped = up_select(ESSAY_GRADE, viewer).where(table.c.deleted.is_(False))
    if document is not None:
        scoped = scoped.where(table.c.document == document)
    graded = scoped.subquery()
    latest = (
        select(graded.c.member, graded.c.document, func.max(graded.c.attempt).label("attempt"))
        .group_by(graded.c.member, graded.c.document)
        .subquery()
    )
    return (
        select(graded)
        .join(
            latest,
            and_(
                latest.c.member == graded.c.member,
                latest.c.document == graded.c.document,
                latest.c.attempt == graded.c.attempt,
            ),
        )
        .where(graded.c.band == str(Band.WEAK))
    )
