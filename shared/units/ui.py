"""Đơn vị: the caller's unit and its subtree as an indented tree (D1, D4), each unit a way into its pages."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency

from shared.core.scope import Caller, UnitInfo, subtree_units
from shared.domain.tree import KIND_LABELS_VI, UnitKind
from shared.ui.export import xlsx_response
from shared.ui.web import Page, render

OPEN_LEVELS = 2
"""Levels shown unfolded; deeper ones open on a click (a province has thousands of cells)."""


@dataclass
class Node:
    unit: UnitInfo
    children: list[Node] = field(default_factory=list)


def tree_of(units: list[UnitInfo]) -> Node | None:
    """Units (shallowest first, as `subtree_units` gives them) as a tree under the first."""
    if not units:
        return None
    nodes: dict[uuid.UUID, Node] = {u.id: Node(u) for u in units}
    for u in units[1:]:
        if u.parent in nodes:
            nodes[u.parent].children.append(nodes[u.id])
    return nodes[units[0].id]


@get("/don-vi")
async def units_page(request: Request[Any, Any, State], caller: NamedDependency[Caller]) -> Response[Any]:
    async with request.app.state.db.read() as conn:
        units = await subtree_units(conn, caller.unit)
    return render(
        "units.html",
        Page(caller, caller.unit, request.url.path),
        root=tree_of(units),
        total=len(units),
        open_levels=OPEN_LEVELS,
    )


@get("/don-vi.xlsx")
async def units_xlsx(request: Request[Any, Any, State], caller: NamedDependency[Caller]) -> Response[Any]:
    """The signed-in person's unit and every unit below it, shallowest first, with its parent."""
    async with request.app.state.db.read() as conn:
        units = await subtree_units(conn, caller.unit)
    names = {u.id: u.name for u in units}
    header = ("Mã", "Tên đơn vị", "Loại", "Cấp trên", "Bậc", "Lực lượng vũ trang")
    rows = [
        (
            u.code,
            u.name,
            _kind(u.kind),
            names.get(u.parent, "") if u.parent else "",
            u.depth - caller.unit.depth,
            "Có" if u.armed_forces else "",
        )
        for u in units
    ]
    return xlsx_response("don-vi.xlsx", "Đơn vị", header, rows)


def _kind(value: str) -> str:
    try:
        return KIND_LABELS_VI[UnitKind(value)]
    except ValueError:
        return value


PAGES = (units_page, units_xlsx)
