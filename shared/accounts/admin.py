"""An admin's accounts: those of their unit and its subtree, added with a first password to change, roles,
disabling, signing out everywhere (D4, D27)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import msgspec
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.accounts.records import UserRow
from shared.accounts.service import (
    User,
    UserCreate,
    UserUpdate,
    _user,
    check_new_user,
    check_password,
    create_user,
    end_sessions,
    hash_password,
)
from shared.core.errors import forbidden_scope, not_found
from shared.core.scope import Caller, UnitInfo, unit_in_scope, unit_info
from shared.db.engine import Database


async def list_accounts(db: Database, caller: Caller) -> list[User]:
    """Accounts of units in the admin's subtree (D4)."""
    async with db.read() as conn:
        rows = (await conn.execute(select(UserRow).order_by(UserRow.username))).all()
        units = {r.unit: await unit_info(conn, r.unit) for r in rows}
    return [_user(r, u) for r in rows if (u := units[r.unit]) is not None and caller.unit.covers(u)]


async def add_account(db: Database, caller: Caller, data: UserCreate) -> User:
    """Create an account for a unit in the admin's subtree (D4, D27); its first password must be changed."""
    check_new_user(data.username, data.role, data.password)
    password_hash = await asyncio.to_thread(hash_password, data.password)
    async with db.write() as conn:
        unit = await unit_in_scope(conn, caller, data.unit)
        user_id = await create_user(
            conn,
            username=data.username,
            unit=unit.id,
            role=data.role,
            password_hash=password_hash,
            full_name=data.full_name,
            must_change_password=True,
        )
        row = (await conn.execute(select(UserRow).where(UserRow.id == user_id))).one()
    return _user(row, unit)


async def _account_in_scope(conn: AsyncConnection, caller: Caller, user_id: uuid.UUID) -> tuple[Any, UnitInfo]:
    row = (await conn.execute(select(UserRow).where(UserRow.id == user_id))).first()
    unit = None if row is None else await unit_info(conn, row.unit)
    if row is None or unit is None:
        raise not_found("tài khoản", "account")
    if not caller.unit.covers(unit):
        raise forbidden_scope()
    return row, unit


async def edit_account(db: Database, caller: Caller, user_id: uuid.UUID, data: UserUpdate) -> User:
    """Change an account's role, name or password, or disable it. Disabling or a new password ends its sessions;
    a password set by an admin must be changed at the account's next sign-in."""
    if isinstance(data.role, str):
        check_new_user("x", data.role, None)
    password = data.password if isinstance(data.password, str) else None
    async with db.read() as conn:
        row, unit = await _account_in_scope(conn, caller, user_id)
    values: dict[str, Any] = {
        k: v
        for k, v in (("role", data.role), ("active", data.active), ("full_name", data.full_name))
        if v is not msgspec.UNSET
    }
    if password is not None:
        check_password(password, row.username)
        values["password_hash"] = await asyncio.to_thread(hash_password, password)
        values["must_change_password"] = user_id != caller.user_id
    async with db.write() as conn:
        if values:
            await conn.execute(update(UserRow).where(UserRow.id == user_id).values(**values))
        if values.get("active") is False or password is not None:
            await end_sessions(conn, user_id)
        row = (await conn.execute(select(UserRow).where(UserRow.id == user_id))).one()
    return _user(row, unit)


async def sign_out_account(db: Database, caller: Caller, user_id: uuid.UUID) -> None:
    """End every session of an account of the admin's subtree (a lost laptop)."""
    async with db.write() as conn:
        await _account_in_scope(conn, caller, user_id)
        await end_sessions(conn, user_id)
