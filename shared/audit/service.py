"""The audit trail read back (D27): entries of a subtree filtered by person, record type and dates, and as .xlsx."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import msgspec
from openpyxl import Workbook
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.accounts.records import ROLE_LABELS_VI
from shared.audit.records import AUDIT_TYPES, AuditEntryRecord, FieldChange
from shared.core.errors import Refusal
from shared.core.scope import MAX_PAGE, UnitInfo, records, units_info, up_select
from shared.domain.formatting import VIETNAM_TIME, format_moment

CLOCK_NOTE_VI = "Giờ theo đồng hồ của máy (nút) đã ghi, có thể lệch; không dùng để xếp thứ tự đồng bộ."


ACTIONS_VI = {"create": "Tạo mới", "update": "Sửa", "delete": "Xóa"}


VIA_VI = {"web": "Trang web", "api": "API", "import": "Nhập tệp", "cli": "Dòng lệnh", "system": "Hệ thống"}

EXPORT_ROWS = 50_000


class AuditEntry(msgspec.Struct, frozen=True):
    id: uuid.UUID
    unit: uuid.UUID
    """The owner of the audited record (and of this entry)."""
    unit_code: str
    record_type: str
    record_id: uuid.UUID
    record_rev: int
    action: str
    changes: list[FieldChange]
    account: uuid.UUID | None
    username: str
    actor_unit: uuid.UUID | None
    actor_unit_code: str
    role: str
    via: str
    instance: uuid.UUID | None
    """The unit of the instance that wrote it; None for the provincial hub."""
    instance_code: str
    address: str
    at: datetime
    """The writing instance's own clock (it may be wrong: laptops' clocks lie)."""


class AuditPage(msgspec.Struct, frozen=True):
    entries: list[AuditEntry]
    next_after: uuid.UUID | None
    """Pass as `after` for the next (older) page; None on the last one."""
    clock_note: str = CLOCK_NOTE_VI


@dataclass(frozen=True, slots=True)
class AuditFilter:
    username: str | None = None
    record_type: str | None = None
    record_id: uuid.UUID | None = None
    since: date | None = None
    until: date | None = None
    """Inclusive, in Vietnam days."""


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), VIETNAM_TIME)


def within_days(at: Any, since: date | None, until: date | None) -> list[ColumnElement[bool]]:
    """`at` falls on the days from `since` to `until` inclusive (either open), as days run in Vietnam."""
    days: list[ColumnElement[bool]] = []
    if since:
        days.append(at >= day_start(since))
    if until:
        days.append(at < day_start(until + timedelta(days=1)))
    return days


async def entries_in(
    conn: AsyncConnection, viewer: UnitInfo, where: AuditFilter, after: uuid.UUID | None, limit: int
) -> tuple[list[AuditEntry], uuid.UUID | None]:
    """Entries of records owned in the viewer's subtree (D4), newest first (by id), `limit` per page."""
    if not 1 <= limit <= max(MAX_PAGE, EXPORT_ROWS):
        raise Refusal(422, "invalid", "Số dòng mỗi trang không hợp lệ.", "Invalid limit.", field="limit")
    found: list[AuditEntryRecord] = []
    for rt in AUDIT_TYPES:
        t = rt.table
        stmt = up_select(rt, viewer)
        if where.username:
            stmt = stmt.where(t.c.username == where.username)
        if where.record_type:
            stmt = stmt.where(t.c.record_type == where.record_type)
        if where.record_id:
            stmt = stmt.where(t.c.record_id == where.record_id)
        stmt = stmt.where(*within_days(t.c.at, where.since, where.until))
        if after is not None:
            stmt = stmt.where(t.c.id < after)
        found.extend(await records(conn, rt, stmt.order_by(t.c.id.desc()).limit(limit + 1)))
    found.sort(key=lambda e: e.id, reverse=True)
    more = len(found) > limit
    found = found[:limit]
    ids = {e.owner for e in found} | {u for e in found for u in (e.actor_unit, e.instance) if u is not None}
    units = await units_info(conn, list(ids))

    def code(unit: uuid.UUID | None, missing: str = "") -> str:
        info = units.get(unit) if unit is not None else None
        return info.code if info is not None else missing

    out = [
        AuditEntry(
            e.id,
            e.owner,
            code(e.owner),
            e.record_type,
            e.record_id,
            e.record_rev,
            e.action,
            e.changes,
            e.account,
            e.username,
            e.actor_unit,
            code(e.actor_unit),
            e.role,
            e.via,
            e.instance,
            code(e.instance, "tỉnh (máy chủ)") if e.instance is not None else "tỉnh (máy chủ)",
            e.address,
            e.at,
        )
        for e in found
    ]
    return out, (found[-1].id if more and found else None)


def changes_text(changes: list[FieldChange]) -> str:
    """`score: 6.5 → 8.0; band: trung_binh → kha` (a created record lists its values without the arrow)."""
    return "; ".join(f"{c.field}: {c.new}" if c.old is None else f"{c.field}: {c.old} → {c.new}" for c in changes)


def workbook(entries: list[AuditEntry], top: UnitInfo) -> bytes:
    """The entries as one sheet, a header row and the clock note, dates shown dd/mm/yyyy."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Nhật ký")
    ws.append([f"Nhật ký thao tác — {top.name}", CLOCK_NOTE_VI])
    ws.append(
        [
            "Thời điểm (giờ của máy ghi)",
            "Tài khoản",
            "Đơn vị người ghi",
            "Vai trò",
            "Máy (nút) ghi",
            "Địa chỉ",
            "Qua",
            "Đơn vị của bản ghi",
            "Loại bản ghi",
            "Mã bản ghi",
            "Phiên bản",
            "Thao tác",
            "Thay đổi",
        ]
    )
    for e in entries:
        ws.append(
            [
                format_moment(e.at),
                e.username,
                e.actor_unit_code,
                ROLE_LABELS_VI.get(e.role, e.role),
                e.instance_code,
                e.address,
                VIA_VI.get(e.via, e.via),
                e.unit_code,
                e.record_type,
                str(e.record_id),
                e.record_rev,
                ACTIONS_VI.get(e.action, e.action),
                changes_text(e.changes),
            ]
        )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
