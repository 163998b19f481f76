"""The calendar's records as a unit of the caller's subtree sees them (D4): what the pages list and filter.

The API's lists answer for the caller's own unit; a page may look at a unit below it (`?unit=`), already checked
by the page frame, so these take that unit (`viewer`) and the filters the pages offer."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.calendar.plans import plan_out
from shared.calendar.records import REVIEW_OVERRIDE, REVIEW_PLAN, REVIEW_PROJECT, REVIEW_REPORT
from shared.calendar.schemas import Override, Plan, Project, ReviewHeld
from shared.core.scope import UnitInfo, down_select, get_visible, out, page, records, units_info, up_select
from shared.sync.tables import UnitRow


async def overrides_for(conn: AsyncConnection, viewer: UnitInfo, document: uuid.UUID | None = None) -> list[Override]:
    """Overrides the viewer holds: its subtree's and those its ancestors decided (they travel down, D17)."""
    table = REVIEW_OVERRIDE.table
    stmt = down_select(REVIEW_OVERRIDE, viewer).where(table.c.deleted.is_(False))
    if document is not None:
        stmt = stmt.where(table.c.document == document)
    return [out(r, Override) for r in await records(conn, REVIEW_OVERRIDE, stmt.order_by(table.c.id))]


async def plans_for(conn: AsyncConnection, viewer: UnitInfo) -> list[Plan]:
    """Plans of the viewer's subtree and of the levels above it (plans travel down, D19), newest first."""
    table = REVIEW_PLAN.table
    stmt = down_select(REVIEW_PLAN, viewer).where(table.c.deleted.is_(False))
    found = [plan_out(r) for r in await records(conn, REVIEW_PLAN, stmt)]
    return sorted(found, key=lambda p: (p.issued_on, p.number), reverse=True)


async def plan_for(conn: AsyncConnection, viewer: UnitInfo, plan_id: uuid.UUID) -> Plan:
    return plan_out(await get_visible(conn, REVIEW_PLAN, viewer, plan_id, down=True, what=("kế hoạch", "plan")))


async def projects_for(
    conn: AsyncConnection,
    viewer: UnitInfo,
    document: uuid.UUID | None = None,
    after: uuid.UUID | None = None,
    limit: int = 200,
) -> list[Project]:
    """Review projects proposed in the viewer's subtree (D21), in the order they were entered."""
    stmt = up_select(REVIEW_PROJECT, viewer)
    if document is not None:
        stmt = stmt.where(REVIEW_PROJECT.table.c.document == document)
    return [out(r, Project) for r in await records(conn, REVIEW_PROJECT, page(stmt, REVIEW_PROJECT, after, limit))]


async def project_for(conn: AsyncConnection, viewer: UnitInfo, project_id: uuid.UUID) -> Project:
    rec = await get_visible(conn, REVIEW_PROJECT, viewer, project_id, down=False, what=("đề án", "project"))
    return out(rec, Project)


async def reports_for(
    conn: AsyncConnection,
    viewer: UnitInfo,
    document: uuid.UUID | None = None,
    kind: str | None = None,
    after: uuid.UUID | None = None,
    limit: int = 200,
) -> list[ReviewHeld]:
    """Reviews held in the viewer's subtree (D16, D21)."""
    table = REVIEW_REPORT.table
    stmt = up_select(REVIEW_REPORT, viewer)
    if document is not None:
        stmt = stmt.where(table.c.document == document)
    if kind:
        stmt = stmt.where(table.c.kind == kind)
    return [out(r, ReviewHeld) for r in await records(conn, REVIEW_REPORT, page(stmt, REVIEW_REPORT, after, limit))]


async def level_labels(conn: AsyncConnection, viewer: UnitInfo) -> dict[int, str]:
    """Each depth of the viewer's subtree by the name the unit tree gives its level ("Huyện", "Cơ sở")."""
    rows = await conn.execute(
        select(UnitRow.depth, func.min(UnitRow.level))
        .where(UnitRow.path.startswith(viewer.path, autoescape=True), UnitRow.deleted.is_(False))
        .group_by(UnitRow.depth)
    )
    return {int(depth): str(level) for depth, level in rows if level}


async def child_units(conn: AsyncConnection, viewer: UnitInfo) -> list[UnitInfo]:
    """The units directly below the viewer, for the pages' unit filter (a province has about a hundred)."""
    ids = (
        await conn.execute(
            select(UnitRow.id).where(
                UnitRow.parent == viewer.id, UnitRow.deleted.is_(False), UnitRow.valid_to.is_(None)
            )
        )
    ).scalars()
    found = await units_info(conn, list(ids))
    return sorted(found.values(), key=lambda u: u.code)
