"""Reading the audit trail: `GET /api/v1/audit` (admins, per unit subtree, filtered, paged) and its .xlsx export."""

from __future__ import annotations

import uuid
from datetime import date

from litestar import Controller, Response, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery

from shared.api.resource import Api, Viewed, attachment
from shared.audit.service import EXPORT_ROWS, AuditFilter, AuditPage, entries_in, workbook
from shared.core.scope import check_limit, unit_in_scope
from shared.domain.formatting import format_date

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

"""Rows in one .xlsx export: a district's year of writes; narrow the filter for more."""


def provide_filter(
    username: FromQuery[str | None] = None,
    record_type: FromQuery[str | None] = None,
    record_id: FromQuery[uuid.UUID | None] = None,
    since: FromQuery[date | None] = None,
    until: FromQuery[date | None] = None,
) -> AuditFilter:
    """Filters: the account's username, the record type, one record, and days from `since` to `until` inclusive."""
    return AuditFilter(username or None, record_type or None, record_id, since, until)


class AuditController(Controller):
    path = "/audit"
    tags = ["audit"]  # noqa: RUF012
    opt = {"role": "admin"}  # noqa: RUF012  (D27: the secretary answers for the work)
    dependencies = {"where": Provide(provide_filter, sync_to_thread=False)}  # noqa: RUF012

    @get("/")
    async def list_entries(
        self,
        api: NamedDependency[Api],
        where: NamedDependency[AuditFilter],
        unit: Viewed = None,
        after: FromQuery[uuid.UUID | None] = None,
        limit: FromQuery[int] = 100,
    ) -> AuditPage:
        """Who wrote what, when and from where, for records of the unit's subtree (the caller's own by default)."""
        check_limit(limit)
        async with api.db.read() as conn:
            viewer = await unit_in_scope(conn, api.caller, unit)
            entries, next_after = await entries_in(conn, viewer, where, after, limit)
        return AuditPage(entries, next_after)

    @get("/export", media_type=XLSX)
    async def export(
        self, api: NamedDependency[Api], where: NamedDependency[AuditFilter], unit: Viewed = None
    ) -> Response[bytes]:
        """The same entries as .xlsx (newest first, at most EXPORT_ROWS: narrow the filter for more)."""
        async with api.db.read() as conn:
            viewer = await unit_in_scope(conn, api.caller, unit)
            entries, _ = await entries_in(conn, viewer, where, None, EXPORT_ROWS)
        name = f"Nhật ký thao tác - {viewer.code} - {format_date(date.today())}.xlsx"
        return attachment(workbook(entries, viewer), name, XLSX)
