"""Consolidation over the database (D20, D26): each section is one SQL GROUP BY over the unit paths.

A unit's path is its ancestors' ids, each `/` + 32 hex digits, so the first `len(top.path) + 33` characters of
any path below `top` name the child subtree it belongs to. Grouping by that prefix gives each child's subtree in
one pass; grouping by a constant gives the whole subtree. The two are computed independently, which is what
`Consolidation.reconciles` checks. Nothing here loops over members or essays in Python.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import String, case, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from shared.api.calendar import document_milestones
from shared.api.documents import visible_document
from shared.api.scope import UnitInfo
from shared.domain.calendar import ReviewKind
from shared.domain.consolidation import (
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


def unit_key(_top: UnitInfo) -> Key:
    return lambda u: u.c.path


def _in_subtree(u: Any, top: UnitInfo) -> ColumnElement[bool]:
    inside: ColumnElement[bool] = u.c.path.startswith(top.path, autoescape=True)
    return inside


async def essay_figures(
    conn: AsyncConnection, top: UnitInfo, key: Key, document: uuid.UUID, cut_off: date
) -> dict[str, EssayFigures]:
    """Latest attempt per member as of the cut-off (D13, D20), by group, obliged and encouraged apart (D12)."""
    g = ESSAY_GRADE.table
    # One pass with window functions: each member's latest attempt up to the cut-off, and how many attempts.
    ranked = (
        select(
            g.c.member_unit,
            g.c.band,
            g.c.obligation,
            func.row_number().over(partition_by=g.c.member, order_by=g.c.attempt.desc()).label("rn"),
            func.count().over(partition_by=g.c.member).label("attempts"),
        )
        .where(
            g.c.document == document,
            g.c.deleted.is_(False),
            g.c.graded_on <= cut_off,
            g.c.member_unit.in_(select(_units.c.id).where(_in_subtree(_units, top))),
        )
        .subquery("ranked")
    )
    u = _units.alias("u")
    k = key(u).label("k")
    obliged = (ranked.c.obligation == OBLIGED).label("obliged")
    stmt = (
        select(
            k,
            obliged,
            ranked.c.band,
            func.count().label("n"),
            func.sum(case((ranked.c.attempts > 1, 1), else_=0)).label("rewritten"),
        )
        .select_from(ranked)
        .join(u, u.c.id == ranked.c.member_unit)
        .where(ranked.c.rn == 1, _in_subtree(u, top))
        .group_by(k, obliged, ranked.c.band)
    )
    parts: dict[str, dict[bool, dict[str, Any]]] = defaultdict(
        lambda: {True: defaultdict(int), False: defaultdict(int)}
    )
    for row in await conn.execute(stmt):
        acc = parts[row.k][bool(row.obliged)]
        acc["wrote"] += row.n
        acc["band:" + row.band] += row.n
        acc["rewritten"] += int(row.rewritten or 0)
        if row.band == str(Band.WEAK):
            acc["rewrites_open"] += row.n
    rc = ROSTER_COUNT.table
    k2 = key(u).label("k")
    counts = (
        select(k2, func.sum(rc.c.obliged).label("obliged"), func.sum(rc.c.encouraged).label("encouraged"))
        .select_from(rc)
        .join(u, u.c.id == rc.c.owner)
        .where(_in_subtree(u, top), rc.c.deleted.is_(False))
        .group_by(k2)
    )
    members: dict[str, tuple[int, int]] = {
        r.k: (int(r.obliged or 0), int(r.encouraged or 0)) for r in await conn.execute(counts)
    }
    result: dict[str, EssayFigures] = {}
    for group in {*parts, *members}:
        acc_by = parts.get(group, {True: {}, False: {}})
        on_roll = members.get(group, (0, 0))
        groups = []
        for is_obliged, n in ((True, on_roll[0]), (False, on_roll[1])):
            acc = acc_by[is_obliged]
            groups.append(
                GroupEssays(
                    members=n,
                    wrote=acc.get("wrote", 0),
                    bands={str(b): acc.get("band:" + str(b), 0) for b in Band},
                    rewrites_open=acc.get("rewrites_open", 0),
                    rewritten=acc.get("rewritten", 0),
                )
            )
        result[group] = EssayFigures(groups[0], groups[1])
    return result


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


async def report_statuses(
    conn: AsyncConnection,
    top: UnitInfo,
    key: Key,
    document: uuid.UUID,
    kind: str,
    due_by_depth: Mapping[int, date],
    today: date,
) -> tuple[dict[str, ReportFigures], list[tuple[uuid.UUID, int, date, Timeliness, date | None]]]:
    """Review reports expected from `top` and the reporting units below it (D21, D25b), and each one's timeliness.

    One row per expected unit (at most a few thousand, never per member); armed-forces units plan their own (D3).
    """
    r = REVIEW_REPORT.table
    u = _units.alias("u")
    k = key(u).label("k")
    held = (
        select(r.c.owner, func.min(r.c.held_on).label("held_on"))
        .where(r.c.document == document, r.c.kind == kind, r.c.deleted.is_(False))
        .group_by(r.c.owner)
        .subquery("held")
    )
    stmt = (
        select(k, u.c.id, u.c.depth, held.c.held_on)
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
    statuses: dict[str, list[Timeliness]] = defaultdict(list)
    items = []
    for row in await conn.execute(stmt):
        due = due_by_depth.get(row.depth) or min(due_by_depth.values())
        status = timeliness(due, today=today, submitted_on=row.held_on)
        statuses[row.k].append(status)
        items.append((row.id, row.depth, due, status, row.held_on))
    return {k_: report_figures(v) for k_, v in statuses.items()}, items


async def figures_by(
    conn: AsyncConnection,
    top: UnitInfo,
    key: Key,
    *,
    document: uuid.UUID,
    kind: str,
    cut_off: date,
    due_by_depth: Mapping[int, date],
    today: date,
) -> dict[str, Figures]:
    essays = await essay_figures(conn, top, key, document, cut_off)
    study = await study_figures(conn, top, key, document, cut_off)
    propaganda = await propaganda_figures(conn, top, key, document, cut_off)
    reports, _ = await report_statuses(conn, top, key, document, kind, due_by_depth, today)
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


async def _refs_by_path(conn: AsyncConnection, top: UnitInfo, max_depth: int | None = None) -> dict[str, UnitRef]:
    u = _units
    stmt = select(u.c.id, u.c.code, u.c.name, u.c.level, u.c.depth, u.c.path, u.c.valid_to).where(
        _in_subtree(u, top), u.c.deleted.is_(False)
    )
    if max_depth is not None:
        stmt = stmt.where(u.c.depth <= max_depth)
    refs: dict[str, UnitRef] = {}
    # A living unit wins its path over a merged-away one that kept it (D1a).
    for row in sorted(await conn.execute(stmt), key=lambda r: r.valid_to is None):
        refs[row.path] = UnitRef(row.id, row.code, row.name, row.level, row.depth)
    return refs


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
    common: dict[str, Any] = {
        "document": document,
        "kind": review.name.lower(),
        "cut_off": cut,
        "due_by_depth": due_by_depth,
        "today": today,
    }
    whole = (await figures_by(conn, top, whole_key(top), **common)).get("*", Figures())
    grouped = await figures_by(conn, top, child_key(top), **common)
    refs = await _refs_by_path(conn, top)
    own = grouped.pop(top.path, Figures())
    children = sorted(
        (LevelRow(refs[path], figures) for path, figures in grouped.items() if path in refs),
        key=lambda row: row.unit.code,
    )
    missing = [p for p in grouped if p not in refs]
    if missing:  # pragma: no cover - a path with no unit means a broken tree; say so rather than drop figures
        raise RuntimeError(f"figures under unknown unit paths: {missing[:3]}")
    bases: list[LevelRow] = []
    if with_bases:
        essays = await essay_figures(conn, top, unit_key(top), document, cut)
        bases = sorted(
            (LevelRow(refs[p], Figures(essays=e)) for p, e in essays.items() if p in refs),
            key=lambda row: row.unit.code,
        )
    _, items = await report_statuses(conn, top, unit_key(top), document, review.name.lower(), due_by_depth, today)
    by_id = {ref.id: ref for ref in refs.values()}
    # Reports that came in late first, then the missing ones from the top of the tree down (D25b).
    late = tuple(
        LateItem(by_id[unit_id], due, status, held_on)
        for unit_id, _depth, due, status, held_on in sorted(
            items, key=lambda i: (i[3] is not Timeliness.LATE, i[1], i[2], by_id[i[0]].code)
        )
        if status in (Timeliness.LATE, Timeliness.OVERDUE)
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
