"""The one place local writes go through: store the records and, in the same transaction, their audit entries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.audit.actor import current
from shared.audit.records import AUDIT_ENTRY, AUDIT_TYPES, AuditEntryRecord, FieldChange, entry_type
from shared.ids import new_id
from shared.sync import store
from shared.sync.registry import Record, RecordType
from shared.sync.tables import Identity, UnitRow

MAX_VALUE = 500
"""Characters kept of one value (a draft's text can be long): enough to see what changed."""
_SKIP = ("id", "owner", "audience", "rev", "deleted")


def text_of(value: Any) -> str | None:
    """A field's value as the log shows it: plain text, ISO dates, decimal point, JSON for lists and structs."""
    if value is None:
        return None
    if isinstance(value, str):
        out = value
    elif isinstance(value, bool):
        out = "true" if value else "false"
    elif isinstance(value, Decimal):
        out = f"{value.normalize():f}"  # 6.50 as stored and 6.5 as typed are one value
    elif isinstance(value, (int, uuid.UUID)):
        out = str(value)
    elif isinstance(value, (date, datetime)):
        out = value.isoformat()
    else:
        out = msgspec.json.encode(value).decode()
    return out if len(out) <= MAX_VALUE else out[: MAX_VALUE - 1] + "…"


def changes(old: Record | None, new: Record) -> tuple[str, list[FieldChange]]:
    """What a write did (create, update or delete) and each field whose value differs, old → new."""
    action = "create" if old is None else ("delete" if new.deleted and not old.deleted else "update")
    out = []
    for name in new.__struct_fields__:
        if name in _SKIP:
            continue
        before = None if old is None else getattr(old, name)
        after = getattr(new, name)
        if old is None or before != after:
            out.append(FieldChange(name, text_of(before), text_of(after)))
    return action, out


async def apply_local(conn: AsyncConnection, rt: RecordType, records: Sequence[Record]) -> store.Applied:
    """A write made on this instance (single writer): each stored version gets its audit entry, in this transaction."""
    if rt in AUDIT_TYPES:
        raise ValueError("audit entries are written only by the hook")
    revised = [r.id for r in records if r.rev > 1]
    held = {r.id: r for _, r in await store.fetch(conn, rt, revised)} if revised else {}
    applied = await store.apply(conn, rt, records, origin=None)
    if not applied.stored:
        return applied
    stored = set(applied.stored)
    instance = (await conn.execute(select(Identity.unit))).scalar_one_or_none()
    now = datetime.now(UTC)
    latest: dict[uuid.UUID, Record] = {}
    for rec in records:  # a record repeated in one call: its highest rev is the version stored
        if rec.id in stored and (rec.id not in latest or rec.rev > latest[rec.id].rev):
            latest[rec.id] = rec
    entries = [
        _entry(rec.owner, rt.name, rec.id, rec.rev, *changes(held.get(rec.id), rec), instance, now)
        for rec in latest.values()
    ]
    await store.apply(conn, entry_type(rt), entries, origin=None)
    return applied


def _entry(
    owner: uuid.UUID,
    record_type: str,
    record_id: uuid.UUID,
    rev: int,
    action: str,
    fields: list[FieldChange],
    instance: uuid.UUID | None,
    now: datetime,
) -> AuditEntryRecord:
    actor = current()
    return AuditEntryRecord(
        id=new_id(),
        owner=owner,
        audience=None,
        rev=1,
        deleted=False,
        record_type=record_type,
        record_id=record_id,
        record_rev=rev,
        action=action,
        changes=fields,
        account=actor.account,
        username=actor.username,
        full_name=actor.full_name,
        actor_unit=actor.unit,
        role=actor.role,
        via=actor.via,
        instance=instance,
        address=actor.address,
        at=now,
    )


ACCOUNT = "account"
"""Entries about sign-in accounts: local tables, so the entry (never a password) is what travels."""


async def log_account(
    conn: AsyncConnection, account: uuid.UUID, new: dict[str, Any], old: dict[str, Any] | None = None
) -> None:
    """An account created or changed on this instance (D27), owned by this instance's unit (the hub's: the root)."""
    instance = (await conn.execute(select(Identity.unit))).scalar_one_or_none()
    owner = instance
    if owner is None:  # the hub: its unit is the root of the account's tree
        unit_path = select(UnitRow.path).where(UnitRow.id == new["unit"]).scalar_subquery()
        owner = (
            await conn.execute(
                select(UnitRow.id).where(UnitRow.depth == 0, unit_path.startswith(UnitRow.path)).limit(1)
            )
        ).scalar_one()
    fields = [
        FieldChange(k, None if old is None else text_of(old.get(k)), text_of(v))
        for k, v in new.items()
        if old is None or old.get(k) != v
    ]
    action = "create" if old is None else "update"
    entry = _entry(owner, ACCOUNT, account, 1, action, fields, instance, datetime.now(UTC))
    await store.apply(conn, AUDIT_ENTRY, [entry], origin=None)
