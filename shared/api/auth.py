"""Accounts of one instance (D27): argon2 passwords, sessions by bearer token or cookie, roles, the guard.

Accounts are local: the hub and every node have their own. The sync endpoints keep their node credentials.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath, JSONBody
from sqlalchemy import delete as sql_delete
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.api.errors import ApiError, forbidden_scope, invalid, not_found
from shared.api.scope import Caller, UnitInfo, unit_in_scope, unit_info
from shared.audit.actor import signed_in
from shared.db.engine import Database
from shared.ids import new_id
from shared.records.users import ROLES, SessionRow, UserRow

SESSION_COOKIE = "nqsync_session"
SESSION_HOURS = 12
"""A working day and some: staff sign in each morning."""
MIN_PASSWORD = 10

_hasher = PasswordHasher()
# Verified when the username is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def check_new_user(username: str, role: str, password: str | None) -> None:
    if not username.strip() or len(username) > 100 or any(c.isspace() for c in username):
        raise invalid("username", "account", "Tên đăng nhập không được để trống hay có dấu cách.", "Invalid username.")
    if role not in ROLES:
        raise invalid(
            "role",
            "D27",
            f"Vai trò «{role}» không hợp lệ; chọn một trong: {', '.join(ROLES)}.",
            f"Unknown role «{role}»; choose one of: {', '.join(ROLES)}.",
        )
    if password is not None and len(password) < MIN_PASSWORD:
        raise invalid(
            "password",
            "account",
            f"Mật khẩu phải có ít nhất {MIN_PASSWORD} ký tự.",
            f"The password must have at least {MIN_PASSWORD} characters.",
        )


async def create_user(
    conn: AsyncConnection, *, username: str, unit: uuid.UUID, role: str, password_hash: str, full_name: str = ""
) -> uuid.UUID:
    """Insert an account (the caller has checked the unit and role); refuses a taken username."""
    taken = (await conn.execute(select(UserRow.id).where(UserRow.username == username))).first()
    if taken is not None:
        raise ApiError(
            409,
            "username_taken",
            f"Tên đăng nhập «{username}» đã có người dùng.",
            f"The username «{username}» is taken.",
            field="username",
            rule="account",
        )
    user_id = new_id()
    await conn.execute(
        insert(UserRow).values(
            id=user_id,
            username=username,
            full_name=full_name,
            unit=unit,
            role=role,
            password_hash=password_hash,
            active=True,
            created_at=datetime.now(UTC),
        )
    )
    return user_id


async def open_session(conn: AsyncConnection, user_id: uuid.UUID, hours: int = SESSION_HOURS) -> str:
    """A new session token (returned once; only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    await conn.execute(
        insert(SessionRow).values(
            token_hash=_token_hash(token), user_id=user_id, created_at=now, expires_at=now + timedelta(hours=hours)
        )
    )
    return token


def _token_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return connection.cookies.get(SESSION_COOKIE) or None


async def caller_for(db: Database, token: str) -> Caller | None:
    async with db.read() as conn:
        row = (
            await conn.execute(
                select(UserRow.id, UserRow.username, UserRow.role, UserRow.unit, UserRow.active, SessionRow.expires_at)
                .join(UserRow, UserRow.id == SessionRow.user_id)
                .where(SessionRow.token_hash == _token_hash(token))
            )
        ).first()
        if row is None or not row.active or _aware(row.expires_at) <= datetime.now(UTC):
            return None
        unit = await unit_info(conn, row.unit)
    if unit is None:
        return None
    return Caller(row.id, row.username, row.role, unit)


def required_role(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> str:
    """A route's `opt["role"]`, else viewer to read and editor to write."""
    role = handler.opt.get("role")
    if isinstance(role, str):
        return role
    return "viewer" if connection.scope.get("method") in ("GET", "HEAD") else "editor"


async def auth_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Every API route: a live session, and a role that allows the action (D27). Unit scope is checked per record."""
    if handler.opt.get("public"):
        return
    token = _token_of(connection)
    caller = None if token is None else await caller_for(connection.app.state.db, token)
    if caller is None:
        raise NotAuthorizedException()
    if not caller.at_least(required_role(connection, handler)):
        raise PermissionDeniedException()
    connection.state.caller = caller
    signed_in(caller, connection, "api")  # D27: the audit trail names who wrote


def provide_caller(request: Request[Any, Any, State]) -> Caller:
    caller: Caller = request.state.caller
    return caller


# The API: signing in and out, accounts.


class Login(msgspec.Struct, frozen=True):
    username: str
    password: str


class User(msgspec.Struct, frozen=True):
    id: uuid.UUID
    username: str
    full_name: str
    unit: uuid.UUID
    unit_code: str
    role: str
    active: bool


class LoginResult(msgspec.Struct, frozen=True):
    token: str
    """Send as `Authorization: Bearer <token>`; the same value is set as the session cookie."""
    expires_at: datetime
    user: User


class UserCreate(msgspec.Struct, frozen=True):
    username: str
    password: str
    role: str
    unit: uuid.UUID | None = None
    """Defaults to the admin's own unit; must be in the admin's subtree (D4)."""
    full_name: str = ""


class UserUpdate(msgspec.Struct, frozen=True):
    role: str | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET
    password: str | msgspec.UnsetType = msgspec.UNSET
    full_name: str | msgspec.UnsetType = msgspec.UNSET


def _user(row: Any, unit: UnitInfo) -> User:
    return User(row.id, row.username, row.full_name, row.unit, unit.code, row.role, row.active)


async def sign_in(db: Database, username: str, password: str) -> LoginResult:
    """Check a username and password and open a session; the same answer for an unknown name as a wrong password."""
    async with db.read() as conn:
        row = (await conn.execute(select(UserRow).where(UserRow.username == username))).first()
    ok = await asyncio.to_thread(verify_password, row.password_hash if row else _DUMMY_HASH, password)
    if row is None or not ok or not row.active:
        raise ApiError(
            401,
            "bad_credentials",
            "Sai tên đăng nhập hoặc mật khẩu, hoặc tài khoản đã bị khóa.",
            "Wrong username or password, or the account is disabled.",
            field="password",
            rule="auth",
        )
    async with db.write() as conn:
        token = await open_session(conn, row.id)
        unit = await unit_info(conn, row.unit)
    if unit is None:
        raise ApiError(403, "no_unit", "Đơn vị của tài khoản không còn.", "The account's unit is gone.")
    expires = datetime.now(UTC) + timedelta(hours=SESSION_HOURS)
    return LoginResult(token, expires, _user(row, unit))


def session_cookie(token: str) -> Cookie:
    """The session cookie: HttpOnly (no script reads it) and SameSite=Lax (not sent on cross-site posts)."""
    return Cookie(
        key=SESSION_COOKIE, value=token, httponly=True, samesite="lax", max_age=SESSION_HOURS * 3600, path="/"
    )


async def sign_out(db: Database, token: str) -> None:
    """End the session this token opened."""
    async with db.write() as conn:
        await conn.execute(sql_delete(SessionRow).where(SessionRow.token_hash == _token_hash(token)))


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]  # noqa: RUF012

    @post("/login", opt={"public": True}, status_code=200)
    async def login(self, state: State, data: JSONBody[Login]) -> Response[LoginResult]:
        """Sign in with username and password; returns a bearer token and sets the session cookie."""
        result = await sign_in(state.db, data.username, data.password)
        return Response(result, cookies=[session_cookie(result.token)])

    @post("/logout", status_code=200, opt={"role": "viewer"})
    async def logout(self, request: Request[Any, Any, State], state: State) -> Response[dict[str, str]]:
        """End this session."""
        token = _token_of(request)
        if token:
            await sign_out(state.db, token)
        return Response({"status": "signed_out"}, cookies=[Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/")])

    @get("/me")
    async def me(self, caller: NamedDependency[Caller]) -> User:
        """The signed-in account, its unit and role."""
        return User(caller.user_id, caller.username, "", caller.unit.id, caller.unit.code, caller.role, True)


class UserController(Controller):
    path = "/users"
    tags = ["auth"]  # noqa: RUF012
    opt = {"role": "admin"}  # noqa: RUF012

    @get("/")
    async def list_users(self, state: State, caller: NamedDependency[Caller]) -> list[User]:
        """Accounts of units in the admin's subtree."""
        db: Database = state.db
        async with db.read() as conn:
            rows = (await conn.execute(select(UserRow).order_by(UserRow.username))).all()
            units = {r.unit: await unit_info(conn, r.unit) for r in rows}
        return [_user(r, u) for r in rows if (u := units[r.unit]) is not None and caller.unit.covers(u)]

    @post("/")
    async def create(self, state: State, caller: NamedDependency[Caller], data: JSONBody[UserCreate]) -> User:
        """Create an account for a unit in the admin's subtree (D4, D27)."""
        check_new_user(data.username, data.role, data.password)
        password_hash = await asyncio.to_thread(hash_password, data.password)
        db: Database = state.db
        async with db.write() as conn:
            unit = await unit_in_scope(conn, caller, data.unit)
            user_id = await create_user(
                conn,
                username=data.username,
                unit=unit.id,
                role=data.role,
                password_hash=password_hash,
                full_name=data.full_name,
            )
            row = (await conn.execute(select(UserRow).where(UserRow.id == user_id))).one()
        return _user(row, unit)

    @patch("/{user_id:uuid}")
    async def edit(
        self, state: State, caller: NamedDependency[Caller], user_id: FromPath[uuid.UUID], data: JSONBody[UserUpdate]
    ) -> User:
        """Change an account's role, name or password, or disable it; disabling ends its sessions."""
        role = data.role if isinstance(data.role, str) else ROLES[0]
        password = data.password if isinstance(data.password, str) else None
        check_new_user("x", role, password)
        values: dict[str, Any] = {
            k: v
            for k, v in (("role", data.role), ("active", data.active), ("full_name", data.full_name))
            if v is not msgspec.UNSET
        }
        if password is not None:
            values["password_hash"] = await asyncio.to_thread(hash_password, password)
        db: Database = state.db
        async with db.write() as conn:
            row = (await conn.execute(select(UserRow).where(UserRow.id == user_id))).first()
            unit = None if row is None else await unit_info(conn, row.unit)
            if row is None or unit is None:
                raise not_found("tài khoản", "account")
            if not caller.unit.covers(unit):
                raise forbidden_scope()
            if values:
                await conn.execute(update(UserRow).where(UserRow.id == user_id).values(**values))
            if values.get("active") is False or password is not None:
                await conn.execute(sql_delete(SessionRow).where(SessionRow.user_id == user_id))
            row = (await conn.execute(select(UserRow).where(UserRow.id == user_id))).one()
        return _user(row, unit)

    @delete("/{user_id:uuid}/sessions", status_code=204)
    async def sign_out_everywhere(
        self, state: State, caller: NamedDependency[Caller], user_id: FromPath[uuid.UUID]
    ) -> None:
        """End every session of an account (a lost laptop)."""
        db: Database = state.db
        async with db.write() as conn:
            row = (await conn.execute(select(UserRow.unit).where(UserRow.id == user_id))).first()
            unit = None if row is None else await unit_info(conn, row.unit)
            if unit is None:
                raise not_found("tài khoản", "account")
            if not caller.unit.covers(unit):
                raise forbidden_scope()
            await conn.execute(sql_delete(SessionRow).where(SessionRow.user_id == user_id))


__all__ = ["Annotated"]
