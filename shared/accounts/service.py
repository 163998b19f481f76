"""Accounts of one instance (D27): argon2 passwords, sessions by bearer token or cookie, roles, the guard.

Accounts are local: the hub and every node have their own. The sync endpoints keep their node credentials.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete as sql_delete
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.accounts.records import ROLES, SessionRow, SignInAttemptRow, UserRow
from shared.core.errors import Refusal, conflict, invalid
from shared.core.scope import Caller, UnitInfo, unit_info
from shared.db.engine import Database
from shared.ids import new_id
from shared.settings import AuthSettings

SESSION_COOKIE = "nqsync_session"
SESSION_HOURS = 12.0
"""The default of `AuthSettings.session_hours`."""
MIN_PASSWORD = 10
MAX_PASSWORD = 200
FAILURES = ("bad_password", "unknown_user", "disabled")
"""Outcomes the throttle counts; a throttled attempt is not counted, so waiting always ends."""
ACCOUNT_WINDOW = timedelta(hours=24)
ADDRESS_WINDOW = timedelta(hours=1)
PASSWORD_CHANGE_OK = "password_change_ok"
"""A route's opt key: reachable while the account must still change its first password."""

# Passwords of 10 or more characters that are still guessed first (lists of leaked passwords, Vietnamese ones too).
COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "12345678910",
        "123456789a",
        "a123456789",
        "1234567890a",
        "1qaz2wsx3edc",
        "password123",
        "password1234",
        "passw0rd123",
        "matkhau123",
        "matkhau1234",
        "matkhau12345",
        "abc1234567",
        "abcd123456",
        "abcd1234567",
        "admin12345",
        "admin123456",
        "administrator",
        "qwerty1234",
        "qwerty12345",
        "qwerty123456",
        "iloveyou123",
        "anhyeuem123",
        "emyeuanh123",
        "vietnam123",
        "vietnam1234",
        "hanoi12345",
        "nqsync12345",
        "changeme123",
        "welcome123",
        "123456789abc",
        "zxcvbnm123",
    }
)
_RUNS = ("01234567890123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm")

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified when the username is unknown, so a wrong name takes as long as a wrong password; made on first use
    (hashing is deliberately slow: ~0.15 s that every `nqsync` command would otherwise pay at import)."""
    return _hasher.hash("not a password of anyone")


def _check_password(stored: str | None, password: str) -> bool:
    dummy = _dummy_hash()  # before the branch: the process's first check pays for it, known name or not
    return verify_password(stored or dummy, password)


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


def password_problem(password: str, username: str = "") -> str | None:
    """What is wrong with a new password, in words a non-programmer can act on; None when it is fine.

    Length is what makes a password hard to guess, so the rule is length, not a mix of character kinds: a short
    sentence one remembers is better than a scrambled word one writes on a note.
    """
    if len(password) < MIN_PASSWORD:
        return (
            f"Mật khẩu phải có ít nhất {MIN_PASSWORD} ký tự (hiện có {len(password)}). "
            "Nên dùng một câu ngắn dễ nhớ, ví dụ «chi bo hop ngay 5»."
        )
    if len(password) > MAX_PASSWORD:
        return f"Mật khẩu dài quá {MAX_PASSWORD} ký tự."
    folded = password.casefold()
    name = username.strip().casefold()
    if len(name) >= 3 and name in folded:
        return "Mật khẩu không được chứa tên đăng nhập; hãy chọn một câu khác."
    bare = "".join(c for c in folded if not c.isspace())
    if (
        folded in COMMON_PASSWORDS
        or bare in COMMON_PASSWORDS
        or len(set(bare)) < 4
        or any(bare in run or bare in run[::-1] for run in _RUNS)
    ):
        return "Mật khẩu này quá phổ biến, dễ bị đoán (như 1234567890, matkhau123); hãy chọn một câu khác."
    return None


def check_password(password: str, username: str = "") -> None:
    problem = password_problem(password, username)
    if problem is not None:
        raise invalid("password", "account", problem, "The password is too short, too common or contains the username.")


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
    if password is not None:
        check_password(password, username)


async def create_user(
    conn: AsyncConnection,
    *,
    username: str,
    unit: uuid.UUID,
    role: str,
    password_hash: str,
    full_name: str = "",
    must_change_password: bool = False,
) -> uuid.UUID:
    """Insert an account (the caller has checked the unit and role); refuses a taken username."""
    taken = (await conn.execute(select(UserRow.id).where(UserRow.username == username))).first()
    if taken is not None:
        raise conflict(
            "username",
            "account",
            f"Tên đăng nhập «{username}» đã có người dùng.",
            f"The username «{username}» is taken.",
            code="username_taken",
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
            must_change_password=must_change_password,
        )
    )
    return user_id


async def open_session(conn: AsyncConnection, user_id: uuid.UUID, hours: float = SESSION_HOURS) -> str:
    """A new session token (returned once; only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    await conn.execute(
        insert(SessionRow).values(
            token_hash=_token_hash(token),
            user_id=user_id,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
            last_seen_at=now,
        )
    )
    return token


async def end_sessions(conn: AsyncConnection, user_id: uuid.UUID, keep: str | None = None) -> None:
    """Sign an account out everywhere (a lost laptop, a changed password), but for the session `keep` if given."""
    query = sql_delete(SessionRow).where(SessionRow.user_id == user_id)
    if keep is not None:
        query = query.where(SessionRow.token_hash != _token_hash(keep))
    await conn.execute(query)


async def session_for(db: Database, token: str, auth: AuthSettings | None = None) -> tuple[Caller, bool] | None:
    """The caller of a live session and whether they must still change their password; None when the session is
    unknown, past its expiry or idle too long (an idle session is ended here)."""
    auth = auth or AuthSettings()
    now = datetime.now(UTC)
    key = _token_hash(token)
    async with db.read() as conn:
        row = (
            await conn.execute(
                select(
                    UserRow.id,
                    UserRow.username,
                    UserRow.role,
                    UserRow.unit,
                    UserRow.active,
                    UserRow.must_change_password,
                    SessionRow.expires_at,
                    SessionRow.created_at,
                    SessionRow.last_seen_at,
                )
                .join(UserRow, UserRow.id == SessionRow.user_id)
                .where(SessionRow.token_hash == key)
            )
        ).first()
        if row is None or not row.active or _aware(row.expires_at) <= now:
            return None
        unit = await unit_info(conn, row.unit)
    seen = _aware(row.last_seen_at or row.created_at)
    idle = timedelta(minutes=auth.idle_minutes)
    if now - seen > idle:
        async with db.write() as conn:
            await conn.execute(sql_delete(SessionRow).where(SessionRow.token_hash == key))
        return None
    # Kept to the minute (or finer for a short timeout): one small write per session per minute, not per request.
    if now - seen > min(timedelta(minutes=1), idle / 4):
        async with db.write() as conn:
            await conn.execute(update(SessionRow).where(SessionRow.token_hash == key).values(last_seen_at=now))
    if unit is None:
        return None
    return Caller(row.id, row.username, row.role, unit), bool(row.must_change_password)


async def caller_for(db: Database, token: str, auth: AuthSettings | None = None) -> Caller | None:
    found = await session_for(db, token, auth)
    return None if found is None else found[0]


def password_change_required() -> Refusal:
    return Refusal(
        403,
        "password_change_required",
        "Bạn cần đổi mật khẩu được cấp trước khi làm việc (POST /api/v1/auth/password, hoặc trang Đổi mật khẩu).",
        "Change the password you were given first (POST /api/v1/auth/password, or the change-password page).",
        field="password",
        rule="auth",
    )


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
    must_change_password: bool = False
    """The account was given its password by someone else: change it (POST /auth/password) before anything else."""


class PasswordChange(msgspec.Struct, frozen=True):
    current_password: str
    new_password: str


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


def throttle_delay(failures: int, free: int, auth: AuthSettings) -> float:
    """Seconds to wait after `failures` failed attempts: none for the first `free`, then doubling up to the cap."""
    if failures < free:
        return 0.0
    return float(min(auth.max_delay_seconds, auth.delay_seconds * 2 ** min(failures - free, 40)))


async def _failures(conn: AsyncConnection, *where: Any) -> tuple[int, datetime | None]:
    row = (
        await conn.execute(
            select(func.count(), func.max(SignInAttemptRow.at)).where(SignInAttemptRow.outcome.in_(FAILURES), *where)
        )
    ).one()
    return int(row[0]), None if row[1] is None else _aware(row[1])


async def throttle_wait(conn: AsyncConnection, username: str, address: str, auth: AuthSettings) -> float:
    """How long this username and this address must still wait before a password is checked (0 when not at all).

    Per account: failures since its last sign-in (within a day). Per address: failures in the last hour, with more
    free tries since an office shares one address. The delay is capped, so the owner is never locked out for good.
    """
    now = datetime.now(UTC)
    last_ok = (
        await conn.execute(
            select(func.max(SignInAttemptRow.at)).where(
                SignInAttemptRow.username == username, SignInAttemptRow.outcome == "ok"
            )
        )
    ).scalar_one()
    since = max(now - ACCOUNT_WINDOW, _aware(last_ok)) if last_ok is not None else now - ACCOUNT_WINDOW
    waits = [0.0]
    for (count, last), free in (
        (await _failures(conn, SignInAttemptRow.username == username, SignInAttemptRow.at > since), auth.free_failures),
        (
            await _failures(conn, SignInAttemptRow.address == address, SignInAttemptRow.at > now - ADDRESS_WINDOW),
            auth.address_free_failures,
        ),
    ):
        if last is not None:
            waits.append((last - now).total_seconds() + throttle_delay(count, free, auth))
    return max(waits)


def too_many_attempts(wait: float) -> Refusal:
    seconds = max(1, int(wait + 0.999))
    return Refusal(
        429,
        "too_many_attempts",
        f"Đã nhập sai mật khẩu nhiều lần. Hãy chờ {seconds} giây rồi thử lại; mật khẩu chưa được kiểm tra.",
        f"Too many failed sign-ins. Wait {seconds} seconds and try again; the password was not checked.",
        field="password",
        rule="auth",
    )


async def sign_in(
    db: Database, username: str, password: str, address: str = "unknown", auth: AuthSettings | None = None
) -> LoginResult:
    """Check a username and password and open a session; the same answer for an unknown name as a wrong password.

    Every attempt is kept in `sign_in_attempts`. The attempt is written as a failure before the (slow) password
    check and corrected on success, so attempts sent in parallel see each other and cannot slip past the throttle.
    """
    auth = auth or AuthSettings()
    username = username[:100]
    address = address[:64]
    async with db.write() as conn:
        wait = await throttle_wait(conn, username, address, auth)
        row = (await conn.execute(select(UserRow).where(UserRow.username == username))).first()
        attempt = new_id()
        outcome = "throttled" if wait > 0 else "unknown_user" if row is None else "bad_password"
        await conn.execute(
            insert(SignInAttemptRow).values(
                id=attempt,
                at=datetime.now(UTC),
                username=username,
                user_id=None if row is None else row.id,
                address=address,
                outcome=outcome,
            )
        )
    if wait > 0:
        raise too_many_attempts(wait)
    ok = await asyncio.to_thread(_check_password, row.password_hash if row else None, password)
    if row is None or not ok or not row.active:
        # The delay counts from when the failure was known, after the slow check.
        failed = {"at": datetime.now(UTC)} | ({"outcome": "disabled"} if row is not None and ok else {})
        async with db.write() as conn:
            await conn.execute(update(SignInAttemptRow).where(SignInAttemptRow.id == attempt).values(**failed))
        raise Refusal(
            401,
            "bad_credentials",
            "Sai tên đăng nhập hoặc mật khẩu, hoặc tài khoản đã bị khóa.",
            "Wrong username or password, or the account is disabled.",
            field="password",
            rule="auth",
        )
    async with db.write() as conn:
        await conn.execute(update(SignInAttemptRow).where(SignInAttemptRow.id == attempt).values(outcome="ok"))
        token = await open_session(conn, row.id, auth.session_hours)
        unit = await unit_info(conn, row.unit)
    if unit is None:
        raise Refusal(403, "no_unit", "Đơn vị của tài khoản không còn.", "The account's unit is gone.")
    expires = datetime.now(UTC) + timedelta(hours=auth.session_hours)
    return LoginResult(token, expires, _user(row, unit), bool(row.must_change_password))


async def change_password(db: Database, caller: Caller, current: str, new: str, keep_token: str | None) -> None:
    """Replace one's own password (the current one checked), clear the first-login flag, end the other sessions."""
    async with db.read() as conn:
        row = (await conn.execute(select(UserRow).where(UserRow.id == caller.user_id))).one()
    if not await asyncio.to_thread(verify_password, row.password_hash, current):
        raise invalid(
            "current_password",
            "auth",
            "Mật khẩu hiện tại không đúng.",
            "The current password is wrong.",
            "bad_password",
        )
    check_password(new, row.username)
    if new == current:
        raise invalid(
            "new_password",
            "auth",
            "Mật khẩu mới phải khác mật khẩu được cấp.",
            "The new password must differ from the current one.",
        )
    new_hash = await asyncio.to_thread(hash_password, new)
    async with db.write() as conn:
        await conn.execute(
            update(UserRow)
            .where(UserRow.id == caller.user_id)
            .values(password_hash=new_hash, must_change_password=False)
        )
        await end_sessions(conn, caller.user_id, keep=keep_token)


async def sign_out(db: Database, token: str) -> None:
    """End the session this token opened."""
    async with db.write() as conn:
        await conn.execute(sql_delete(SessionRow).where(SessionRow.token_hash == _token_hash(token)))


__all__ = ["Annotated"]
