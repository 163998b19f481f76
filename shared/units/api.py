"""The units a caller may work with: their own and its subtree (D1, D4)."""

from __future__ import annotations

import uuid

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from shared.api.resource import Api
from shared.core.scope import UnitInfo, subtree_units, unit_in_scope


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
    async def list_units(self, api: NamedDependency[Api]) -> list[UnitOut]:
        """The caller's unit and every unit below it, shallowest first (D4)."""
        return [unit_out(u) for u in await api.read(lambda conn: subtree_units(conn, api.caller.unit))]

    @get("/{unit_id:uuid}")
    async def get_unit(self, api: NamedDependency[Api], unit_id: FromPath[uuid.UUID]) -> UnitOut:
        async with api.db.read() as conn:
            return unit_out(await unit_in_scope(conn, api.caller, unit_id))
