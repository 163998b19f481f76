"""What the calendar's pages share: Vietnamese labels, the unit filter, links that stay on the viewed unit, and the
D19/D20 lateness of a plan in plain words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request
from litestar.datastructures import State

from shared.calendar.lists import child_units
from shared.calendar.schemas import Plan
from shared.calendar.service import KIND_BY_NAME
from shared.core.scope import UnitInfo
from shared.domain.calendar import Milestone, MilestoneStatus, add_full_years
from shared.domain.formatting import format_date
from shared.ui.web import Page

BASE = "/lich-so-ket"
KIND_LABELS_VI: Mapping[str, str] = {name: kind.value for name, kind in KIND_BY_NAME.items()}
STATUS_LABELS_VI: Mapping[str, str] = {s.name.lower(): s.value for s in MilestoneStatus}
PLAN_KIND_LABELS_VI: Mapping[str, str] = {
    "term": "Kế hoạch nhiệm kỳ",
    "year": "Kế hoạch năm",
    "addition": "Kế hoạch bổ sung",
}
PLAN_STATE_LABELS_VI: Mapping[str, str] = {"on_time": "Ban hành đúng hạn", "late": "Ban hành muộn"}
PROJECT_STATE_LABELS_VI: Mapping[str, str] = {"proposed": "Đã đề xuất, chờ duyệt", "approved": "Đã phê duyệt"}


async def unit_choices(request: Request[Any, Any, State], page: Page) -> list[tuple[str, str]]:
    """The unit filter: one's own unit, the one being viewed, and the units directly below it (D4: no sibling)."""
    async with request.app.state.db.read() as conn:
        below = await child_units(conn, page.viewer)
    chosen: list[UnitInfo] = [page.me.unit] + ([page.viewer] if page.other_unit else []) + below
    return [(str(u.id), f"{u.name} ({u.code})") for u in chosen]


def plan_late_vi(plan: Plan, numbers: Mapping[Any, str]) -> list[str]:
    """What a plan was issued late for, as `plan_lateness` finds it (D19, D20), in the users' words."""
    late: list[str] = []
    if plan.plan_kind == "term" and plan.issued_on >= add_full_years(plan.period_start, 1):
        late.append("Kế hoạch nhiệm kỳ ban hành sau năm đầu nhiệm kỳ (D19).")
    if plan.plan_kind == "year" and plan.issued_on.year >= plan.period_start.year:
        late.append(
            f"Kế hoạch năm {plan.period_start.year} phải ban hành trong năm {plan.period_start.year - 1} (D19)."
        )
    for item in plan.items:
        deadline = Milestone("", KIND_BY_NAME[item.kind], item.due).plan_deadline
        if plan.issued_on > deadline:
            late.append(
                f"{KIND_LABELS_VI[item.kind]} {numbers.get(item.document, 'văn bản')}: "
                f"kế hoạch phải ban hành chậm nhất ngày {format_date(deadline)} (D20)."
            )
    return late
