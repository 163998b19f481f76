"""The units a caller may work with: their own and its subtree (D1, D4)."""

from __future__ import annotations

import uuid

import msgspec
from litestar import Controller, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath

from shared.core.scope import Caller, UnitInfo, subtree_units, unit_in_scope
from shared.db.engine import Database


class UnitOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    code: str
    name: str
    depth: int
    parent: uuid.UUID | None
    kind: str
    armed_forces: bool
    """D3: studies under its own guidance; receives the province's documents but not bound by its study plan."""


def unit_out(u: UnitInfo) -> UnitOut:
    return UnitOut(u.id, u.code, u.name, u.depth, u.parent, u.kind, u.armed_forces)


class UnitController(Controller):
    path = "/units"
    tags = ["units"]  # noqa: RUF012

    @get("/")
    async def list_units(self, state: State, caller: NamedDependency[Caller]) -> list[UnitOut]:
        """The caller's unit and every unit below it, shallowest first (D4)."""
        db: Database = state.db
        async with db.read() as conn:
            return [unit_out(u) for u in await subtree_units(conn, caller.unit)]

    @get("/{unit_id:uuid}")
    async def get_unit(self, state: State, caller: NamedDependency[Caller], unit_id: FromPath[uuid.UUID]) -> UnitOut:
        db: Database = state.db
        async with db.read() as conn:
            return unit_out(await unit_in_scope(conn, caller, unit_id))
