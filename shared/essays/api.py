"""The routes of `shared/essays/` under `/api/v1`: HTTP only, over `shared.essays.service`."""

from __future__ import annotations

import uuid
from datetime import date

from litestar import Controller, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from shared.api.resource import XlsxUpload, require_upload
from shared.core.scope import (
    Caller,
)
from shared.db.engine import Database
from shared.essays import service
from shared.essays.schemas import (
    Essay,
    EssayCreate,
    EssaySummary,
    EssayTemplate,
    EssayTemplateCreate,
    EssayTemplateUpdate,
    EssayUpdate,
    Rewrite,
)
from shared.members.schemas import ImportResult


class EssayTemplateController(Controller):
    path = "/essay-templates"
    tags = ["essays"]  # noqa: RUF012

    @get("/")
    async def list_templates(
        self,
        state: State,
        caller: NamedDependency[Caller],
        document: FromQuery[uuid.UUID | None] = None,
        unit: FromQuery[uuid.UUID | None] = None,
    ) -> list[EssayTemplate]:
        """Templates of the unit's own level and of the levels above it, and those written in its subtree (D11)."""
        db: Database = state.db
        async with db.read() as conn:
            return await service.list_templates(conn, caller, document, unit)

    @post("/")
    async def create(
        self, state: State, caller: NamedDependency[Caller], data: JSONBody[EssayTemplateCreate]
    ) -> EssayTemplate:
        """A level's lead agency writes the template for the members it summons (D11)."""
        db: Database = state.db
        async with db.write() as conn:
            return await service.create_essay_template(conn, caller, data)

    @patch("/{template_id:uuid}")
    async def edit(
        self,
        state: State,
        caller: NamedDependency[Caller],
        template_id: FromPath[uuid.UUID],
        data: JSONBody[EssayTemplateUpdate],
    ) -> EssayTemplate:
        db: Database = state.db
        async with db.write() as conn:
            return await service.edit_essay_template(conn, caller, template_id, data)

    @delete("/{template_id:uuid}", status_code=204)
    async def remove(self, state: State, caller: NamedDependency[Caller], template_id: FromPath[uuid.UUID]) -> None:
        db: Database = state.db
        async with db.write() as conn:
            await service.remove_essay_template(conn, caller, template_id)


class EssayController(Controller):
    path = "/essays"
    tags = ["essays"]  # noqa: RUF012

    @get("/")
    async def list_essays(
        self,
        state: State,
        caller: NamedDependency[Caller],
        document: FromQuery[uuid.UUID | None] = None,
        member: FromQuery[uuid.UUID | None] = None,
        unit: FromQuery[uuid.UUID | None] = None,
        after: FromQuery[uuid.UUID | None] = None,
        limit: FromQuery[int] = 200,
    ) -> list[Essay]:
        """Graded attempts in a unit's subtree (grades travel up to the province)."""
        db: Database = state.db
        async with db.read() as conn:
            return await service.list_essays(conn, caller, document, member, unit, after, limit)

    @post("/")
    async def grade(self, state: State, caller: NamedDependency[Caller], data: JSONBody[EssayCreate]) -> Essay:
        """Grade a member's essay: the first attempt, or a rewrite while the latest is Yếu (D13)."""
        db: Database = state.db
        async with db.write() as conn:
            return await service.grade_essay(conn, caller, data)

    @get("/{essay_id:uuid}")
    async def get_essay(self, state: State, caller: NamedDependency[Caller], essay_id: FromPath[uuid.UUID]) -> Essay:
        db: Database = state.db
        async with db.read() as conn:
            return await service.get_essay(conn, caller, essay_id)

    @patch("/{essay_id:uuid}")
    async def correct(
        self,
        state: State,
        caller: NamedDependency[Caller],
        essay_id: FromPath[uuid.UUID],
        data: JSONBody[EssayUpdate],
    ) -> Essay:
        """Correct a score or date; the band follows the score (D13)."""
        db: Database = state.db
        async with db.write() as conn:
            return await service.correct_essay(conn, caller, essay_id, data)

    @delete("/{essay_id:uuid}", status_code=204)
    async def remove(self, state: State, caller: NamedDependency[Caller], essay_id: FromPath[uuid.UUID]) -> None:
        db: Database = state.db
        async with db.write() as conn:
            await service.remove_essay(conn, caller, essay_id)

    @get("/rewrites")
    async def open_rewrites(
        self,
        state: State,
        caller: NamedDependency[Caller],
        document: FromQuery[uuid.UUID | None] = None,
        unit: FromQuery[uuid.UUID | None] = None,
    ) -> list[Rewrite]:
        """Members whose latest attempt is Yếu, so a rewrite is owed, per unit of the subtree (D13)."""
        db: Database = state.db
        async with db.read() as conn:
            return await service.list_open_rewrites(conn, caller, document, unit)

    @get("/summary")
    async def summary(
        self,
        state: State,
        caller: NamedDependency[Caller],
        document: FromQuery[uuid.UUID],
        unit: FromQuery[uuid.UUID | None] = None,
    ) -> EssaySummary:
        """Participation for a document over a subtree: obliged and encouraged apart (D12), bands by latest attempt."""
        db: Database = state.db
        async with db.read() as conn:
            return await service.essay_summary(conn, caller, document, unit)

    @post("/import", status_code=200, before_request=require_upload)
    async def import_grades(
        self,
        state: State,
        caller: NamedDependency[Caller],
        data: XlsxUpload,
        document: FromQuery[uuid.UUID],
        unit: FromQuery[uuid.UUID | None] = None,
        graded_on: FromQuery[date | None] = None,
        dry_run: FromQuery[bool] = False,
    ) -> ImportResult:
        """Import grades from .xlsx (Họ và tên, Năm sinh, Điểm, Ngày chấm; or Mã đảng viên) for members on rosters
        held here. All or nothing: any bad row refuses the file, with every problem listed by row (D13)."""
        content = await data.read()
        db: Database = state.db
        async with db.write() as conn:
            return await service.import_grade_file(conn, caller, content, document, unit, graded_on, dry_run)


ROUTES = (
    EssayTemplateController,
    EssayController,
)
