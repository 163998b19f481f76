"""What is due (D27): every open deadline in a unit's subtree, with the unit responsible, most urgent first."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from shared.calendar.records import REVIEW_PLAN, REVIEW_REPORT, ReviewPlanRecord
from shared.calendar.service import document_milestones
from shared.core.scope import UnitInfo, down_select, records, subtree_units, up_select
from shared.documents.records import DOCUMENT, DocumentRecord
from shared.domain.deadlines import issuance_deadline
from shared.domain.reports import ASSUMPTIONS_VI, DueItem, DueKind, by_urgency, progress_years, year_end
from shared.drafts.facts import expected_units, report_facts, reporting_units
from shared.due.schemas import DueOut, WhatIsDue
from shared.essays.figures import owed_rewrites
from shared.programmes.records import ACTION_PROGRAMME, PROGRAMME_PROGRESS, ActionProgrammeRecord

DEFAULT_HORIZON_DAYS = 90


async def collect_due(
    conn: AsyncConnection, viewer: UnitInfo, day: date, *, horizon_days: int = DEFAULT_HORIZON_DAYS, limit: int = 500
) -> WhatIsDue:
    """D27 for `viewer`'s subtree as of `day`: the API's and the web UI's one source of what is due."""
    until = day + timedelta(days=horizon_days)
    units = {u.id: u for u in await subtree_units(conn, viewer)}
    items: list[DueItem] = []
    docs: list[DocumentRecord] = await records(
        conn, DOCUMENT, down_select(DOCUMENT, viewer).where(DOCUMENT.table.c.deleted.is_(False))
    )
    by_doc = {d.id: d for d in docs}
    milestones = await document_milestones(conn, viewer, docs, day)
    held = {
        (r.owner, r.document, r.kind)
        for r in await conn.execute(
            up_select(REVIEW_REPORT, viewer)
            .with_only_columns(REVIEW_REPORT.table.c.owner, REVIEW_REPORT.table.c.document, REVIEW_REPORT.table.c.kind)
            .where(REVIEW_REPORT.table.c.deleted.is_(False))
        )
    }
    plans: list[ReviewPlanRecord] = await records(
        conn, REVIEW_PLAN, up_select(REVIEW_PLAN, viewer).where(REVIEW_PLAN.table.c.deleted.is_(False))
    )
    planned = {(p.owner, i.document, i.kind) for p in plans for i in p.items}
    reporting = await reporting_units(conn, viewer)
    for m in milestones:
        doc = by_doc[m.document]
        subject = f"{m.kind_vi} {doc.number}"
        # D20: the committee that issued the document issues the plan for its review.
        key = (doc.owner, doc.id, m.kind)
        if doc.owner in units and m.plan_deadline <= until and key not in held and key not in planned:
            items.append(DueItem(DueKind.PLAN, m.plan_deadline, doc.owner, subject, doc.id))
        if min(s.due for s in m.steps) > until:
            continue
        expected = await expected_units(conn, viewer, doc, reporting)
        for u, facts, draft in await report_facts(conn, viewer, doc, m.kind, expected):
            ref = draft.id if draft else doc.id
            if facts.received or facts.waived:
                continue
            if facts.return_open and facts.correct_by is not None:
                items.append(DueItem(DueKind.CORRECTION, facts.correct_by, u.id, subject, ref))
            elif facts.approved_on is not None:
                items.append(DueItem(DueKind.ISSUANCE, issuance_deadline(facts.approved_on), u.id, subject, ref))
            elif facts.due <= until:
                items.append(DueItem(DueKind.REPORT, facts.due, u.id, subject, ref))
    items.extend(await _progress_items(conn, viewer, day, until))
    items.extend(await _rewrite_items(conn, viewer, by_doc))
    names = {u.id: u for u in units.values()}
    ordered = by_urgency(
        replace(i, responsible_code=names[i.responsible].code) for i in items if i.responsible in names
    )
    shown = [
        DueOut(
            i.kind.name.lower(),
            i.kind.value,
            i.due,
            i.days_left(day),
            i.late(day),
            i.responsible,
            names[i.responsible].code,
            names[i.responsible].name,
            i.subject,
            i.ref,
        )
        for i in ordered[:limit]
    ]
    return WhatIsDue(
        viewer.id, day, until, len(ordered), sum(i.late(day) for i in ordered), shown, list(ASSUMPTIONS_VI)
    )


async def _progress_items(conn: AsyncConnection, viewer: UnitInfo, day: date, until: date) -> list[DueItem]:
    """D18: a progress report per target per year, due at the year's end, from the programme's issue to the target's
    deadline."""
    table = ACTION_PROGRAMME.table
    programmes: list[ActionProgrammeRecord] = await records(
        conn, ACTION_PROGRAMME, up_select(ACTION_PROGRAMME, viewer).where(table.c.deleted.is_(False))
    )
    if not programmes:
        return []
    ptable = PROGRAMME_PROGRESS.table
    reported = {
        (r.programme, r.target, r.year)
        for r in await conn.execute(
            up_select(PROGRAMME_PROGRESS, viewer)
            .with_only_columns(ptable.c.programme, ptable.c.target, ptable.c.year)
            .where(ptable.c.deleted.is_(False))
        )
    }
    items = []
    for p in programmes:
        for t in p.targets:
            for year in progress_years(p.issued_on, t.deadline, today=max(day, until)):
                due = year_end(year)
                if due <= until and (p.id, t.key, year) not in reported:
                    items.append(DueItem(DueKind.PROGRESS, due, p.owner, f"{p.title}: {t.indicator} ({year})", p.id))
    return items


async def _rewrite_items(
    conn: AsyncConnection, viewer: UnitInfo, docs: dict[uuid.UUID, DocumentRecord]
) -> list[DueItem]:
    """D13: members whose latest attempt is Yếu owe a rewrite; the member's unit is responsible, no date is set."""
    return [
        DueItem(
            DueKind.REWRITE,
            None,
            r.member_unit,
            f"Bài thu hoạch {docs[r.document].number}" if r.document in docs else "Bài thu hoạch",
            r.id,
        )
        for r in await conn.execute(owed_rewrites(viewer))
    ]
