"""Đơn vị: the caller's unit and its subtree as an indented tree (D1, D4), each unit a way into its pages."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency

from shared.core.scope import Caller, UnitInfo, subtree_units
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


PAGES = (units_page,)
