"""The routes of `shared/members/` under `/api/v1`: HTTP only, over `shared.members.service`."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from shared.api.resource import XlsxUpload, require_upload
from shared.core.scope import (
    Caller,
)
from shared.db.engine import Database
from shared.members import service
from shared.members.schemas import ImportResult, Member, MemberCreate, MemberUpdate


class MemberController(Controller):
    path = "/members"
    tags = ["members"]  # noqa: RUF012

    @get("/")
    async def list_members(
        self,
        state: State,
        caller: NamedDependency[Caller],
        unit: FromQuery[uuid.UUID | None] = None,
        after: FromQuery[uuid.UUID | None] = None,
        limit: FromQuery[int] = 200,
    ) -> list[Member]:
        """Members of a unit's subtree held here (a unit and its parent hold a roster; no level above does)."""
        db: Database = state.db
        async with db.read() as conn:
            return await service.list_members(conn, caller, unit, after, limit)

    @post("/")
    async def create(self, state: State, caller: NamedDependency[Caller], data: JSONBody[MemberCreate]) -> Member:
        db: Database = state.db
        async with db.write() as conn:
            return await service.create_member(conn, caller, data)

    @get("/{member_id:uuid}")
    async def get_member(self, state: State, caller: NamedDependency[Caller], member_id: FromPath[uuid.UUID]) -> Member:
        db: Database = state.db
        async with db.read() as conn:
            return await service.get_member(conn, caller, member_id)

    @patch("/{member_id:uuid}")
    async def edit(
        self,
        state: State,
        caller: NamedDependency[Caller],
        member_id: FromPath[uuid.UUID],
        data: JSONBody[MemberUpdate],
    ) -> Member:
        db: Database = state.db
        async with db.write() as conn:
            return await service.edit_member(conn, caller, member_id, data)

    @delete("/{member_id:uuid}", status_code=204)
    async def remove(self, state: State, caller: NamedDependency[Caller], member_id: FromPath[uuid.UUID]) -> None:
        """Take a member off the roster (moved away, deceased): a tombstone that clears the name too."""
        db: Database = state.db
        async with db.write() as conn:
            await service.remove_member(conn, caller, member_id)

    @post("/import", status_code=200, before_request=require_upload)
    async def import_roster(
        self,
        state: State,
        caller: NamedDependency[Caller],
        data: XlsxUpload,
        unit: FromQuery[uuid.UUID | None] = None,
        dry_run: FromQuery[bool] = False,
    ) -> ImportResult:
        """Import a unit's roster from .xlsx (Họ và tên, Năm sinh, Diện, Chức vụ, Chi bộ nông thôn, Ghi chú).

        All or nothing: any bad row refuses the whole file with every problem listed by row. A row whose name and
        birth year match a member already held updates that member.
        """
        content = await data.read()
        db: Database = state.db
        async with db.write() as conn:
            return await service.import_roster_file(conn, caller, content, unit, dry_run)


ROUTES = (MemberController,)
