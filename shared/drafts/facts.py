"""Which reports a subtree owes for a review, and the facts of each (D21, D25a, D25b): shared by approval,
completeness, what is due and the consolidation's report section."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.calendar.service import REVIEWING_KINDS, document_milestones, review_kind_field
from shared.core.scope import UnitInfo, down_select, records, subtree_units, units_info
from shared.documents.records import DocumentRecord
from shared.documents.service import visible_document
from shared.domain.deadlines import issuance_deadline
from shared.domain.reports import ASSUMPTIONS_VI, LevelCount, ReportFacts, completeness, correction_due
from shared.drafts.records import REPORT_DECISION, REPORT_DRAFT, ReportDecisionRecord, ReportDraftRecord
from shared.drafts.schemas import Completeness, LevelOut, UnitReport
from shared.sync.registry import RecordType
from shared.sync.tables import UnitRow


def review_kind(kind: str, field: str = "kind") -> str:
    """A report's review, refused in the words the calendar uses for an unknown one (D16)."""
    review_kind_field(kind, field, "báo cáo")
    return kind


def addressed_select(rt: RecordType, viewer: UnitInfo) -> Select[object]:
    """Rows owned in the viewer's subtree, or addressed to the viewer, an ancestor or a unit below it (D4).

    Comments and decisions from above name the unit they concern as their audience; the viewer sees those about
    its subtree, never a sibling's.
    """
    return down_select(rt, viewer, addressed_below=True)


# Facts of expected reports, shared by approval (D25b), completeness and what-is-due (D27).


async def reporting_units(conn: AsyncConnection, viewer: UnitInfo) -> list[UnitInfo]:
    """Committees and base organisations of the viewer's subtree outside the armed-forces branch (D3, D21)."""
    armed = [r.path for r in await conn.execute(select(UnitRow.path).where(UnitRow.armed_forces.is_(True)))]
    return [
        u
        for u in await subtree_units(conn, viewer)
        if u.kind in REVIEWING_KINDS and not any(u.path.startswith(p) for p in armed)
    ]


async def expected_units(
    conn: AsyncConnection, viewer: UnitInfo, doc: DocumentRecord, among: Sequence[UnitInfo] | None = None
) -> list[UnitInfo]:
    """Units of the viewer's subtree expected to report on a document's review: those of `reporting_units` that
    the document applies to."""
    everyone = among if among is not None else await reporting_units(conn, viewer)
    owner = (await units_info(conn, [doc.owner])).get(doc.owner)
    targets = list((await units_info(conn, list(doc.applies_to))).values()) if doc.applies_to else []
    out_: list[UnitInfo] = []
    for u in everyone:
        if owner is not None and not owner.covers(u) and not u.covers(owner):
            continue
        if targets and not any(t.covers(u) or u.covers(t) for t in targets):
            continue
        out_.append(u)
    return out_


async def due_by_depth(conn: AsyncConnection, viewer: UnitInfo, doc: DocumentRecord, kind: str) -> dict[int, date]:
    """Each depth's due date for a review, cascaded down from the level that issued the document (D25a)."""
    milestones = await document_milestones(conn, viewer, [doc], date.today())
    m = next(m for m in milestones if m.kind == kind)
    steps = {s.depth: s.due for s in m.steps}
    steps.setdefault(viewer.depth, m.unit_due)
    return steps


async def _live_among(
    conn: AsyncConnection, rt: RecordType, column: str, ids: Sequence[uuid.UUID], document: uuid.UUID, kind: str
) -> list[Any]:
    """Live records of a document's review whose `column` is one of `ids`, read 500 ids a statement."""
    table = rt.table
    found: list[Any] = []
    for i in range(0, len(ids), 500):
        stmt = select(*[table.c[n] for n in rt.columns]).where(
            table.c[column].in_(ids[i : i + 500]),
            table.c.document == document,
            table.c.kind == kind,
            table.c.deleted.is_(False),
        )
        found.extend(await records(conn, rt, stmt))
    return found


async def drafts_of(
    conn: AsyncConnection, owners: Sequence[uuid.UUID], document: uuid.UUID, kind: str
) -> dict[uuid.UUID, ReportDraftRecord]:
    return {rec.owner: rec for rec in await _live_among(conn, REPORT_DRAFT, "owner", owners, document, kind)}


async def decisions_about(
    conn: AsyncConnection, subjects: Sequence[uuid.UUID], document: uuid.UUID, kind: str
) -> dict[uuid.UUID, list[ReportDecisionRecord]]:
    found: dict[uuid.UUID, list[ReportDecisionRecord]] = {}
    for rec in await _live_among(conn, REPORT_DECISION, "subject_unit", subjects, document, kind):
        found.setdefault(rec.subject_unit, []).append(rec)
    return found


def facts_of(
    unit: UnitInfo, due: date, draft: ReportDraftRecord | None, decisions: Sequence[ReportDecisionRecord]
) -> ReportFacts:
    returns = [d for d in decisions if d.action == "return" and d.version is not None]
    last_return = max(returns, key=lambda d: d.version or 0, default=None)
    accepted = [d.version for d in decisions if d.action == "accept" and d.version is not None]
    issuances = draft.issuances if draft is not None else []
    return ReportFacts(
        unit=unit.id,
        depth=unit.depth,
        due=due,
        versions=len(draft.versions) if draft else 0,
        submitted_on=draft.submitted_on if draft else None,
        approved_on=draft.approved_on if draft else None,
        sent_version=issuances[-1].version if issuances else None,
        first_sent_on=issuances[0].issued_on if issuances else None,
        last_sent_on=issuances[-1].issued_on if issuances else None,
        returned_version=last_return.version if last_return else None,
        correct_by=correction_due(last_return.decided_on, last_return.correct_by) if last_return else None,
        accepted_version=max(accepted, default=None),
        waived=any(d.action == "waive" for d in decisions),
    )


async def report_facts(
    conn: AsyncConnection, viewer: UnitInfo, doc: DocumentRecord, kind: str, units: Sequence[UnitInfo]
) -> list[tuple[UnitInfo, ReportFacts, ReportDraftRecord | None]]:
    steps = await due_by_depth(conn, viewer, doc, kind)
    ids = [u.id for u in units]
    drafts = await drafts_of(conn, ids, doc.id, kind)
    decisions = await decisions_about(conn, ids, doc.id, kind)
    fallback = min(steps.values()) if steps else date.today()
    return [
        (u, facts_of(u, steps.get(u.depth, fallback), drafts.get(u.id), decisions.get(u.id, [])), drafts.get(u.id))
        for u in units
    ]


def level_out(c: LevelCount) -> LevelOut:
    return LevelOut(
        c.depth,
        c.expected,
        c.received,
        c.waived,
        c.missing,
        c.on_time,
        c.late,
        c.overdue,
        c.returned,
        c.issuance_late,
    )


async def completeness_of(
    conn: AsyncConnection, viewer: UnitInfo, document: uuid.UUID, kind: str, day: date
) -> Completeness:
    """Reports expected of a subtree for one review: how many arrived, how many on time, per level and per unit
    (D25b), each against its cascaded due date (D25a)."""
    review_kind(kind)
    doc = await visible_document(conn, viewer, document, "document")
    rows = await report_facts(conn, viewer, doc, kind, await expected_units(conn, viewer, doc))
    total, levels = completeness((f for _, f, _ in rows), today=day)
    units = [
        UnitReport(
            u.id,
            u.code,
            u.name,
            u.depth,
            f.due,
            f.state.name.lower(),
            f.state.value,
            f.timeliness(day).name.lower(),
            f.timeliness(day).value,
            d.id if d else None,
            f.first_sent_on,
            f.approved_on,
            issuance_deadline(f.approved_on) if f.approved_on else None,
            f.issuance_late(day),
            f.correct_by if f.return_open else None,
        )
        for u, f, d in sorted(rows, key=lambda r: (-r[0].depth, r[0].code))
    ]
    return Completeness(
        doc.id, kind, viewer.id, day, level_out(total), [level_out(c) for c in levels], units, list(ASSUMPTIONS_VI)
    )
