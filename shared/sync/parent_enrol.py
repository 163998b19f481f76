"""Enrolment and credentials at the parent: one-time codes, a node's credential, rotation, revocation, sign-in."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, insert, select, update

from shared.db.engine import fetch
from shared.sync.parent_base import Child, ParentBase, SyncError
from shared.sync.protocol import (
    EnrolRequest,
    EnrolResponse,
)
from shared.sync.tables import ChildNode, EnrolmentCode, UnitRow

_AUTH = (
    select(ChildNode.secret_hash, ChildNode.revoked_at, UnitRow.id, UnitRow.path, UnitRow.depth, ChildNode.acked_push)
    .join(UnitRow, UnitRow.id == ChildNode.unit)
    .where(ChildNode.id == bindparam("node"))
)


def _digest_secret(secret: str) -> bytes:
    # Credentials are 256-bit random strings: a plain hash suffices (argon2 is for human passwords).
    return hashlib.sha256(secret.encode()).digest()


def _new_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(10)).decode().rstrip("=")
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def _normalise_code(code: str) -> str:
    flat = "".join(ch for ch in code.upper() if ch.isalnum())
    return "-".join(flat[i : i + 4] for i in range(0, len(flat), 4))


def _aware(moment: datetime) -> datetime:
    # SQLite returns naive datetimes for timezone-aware columns; they were written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Enrolment(ParentBase):
    """The enrolment and credential endpoints."""

    async def issue_code(self, unit: uuid.UUID, ttl: timedelta = timedelta(days=3)) -> str:
        """A one-time code for a node of `unit` (which must be below this instance's unit)."""
        me, my_path, _ = await self.my_unit()
        async with self.db.write() as conn:
            row = (await conn.execute(select(UnitRow.path, UnitRow.valid_to).where(UnitRow.id == unit))).first()
            if row is None or row.valid_to is not None or unit == me or not row.path.startswith(my_path):
                raise SyncError(
                    404,
                    "unit_not_below",
                    "Đơn vị này không thuộc phạm vi của máy chủ này (hoặc đã giải thể).",
                    "That unit is not below this instance's unit (or no longer exists).",
                )
            code = _new_code()
            await conn.execute(
                insert(EnrolmentCode).values(
                    code_hash=_digest_secret(code), unit=unit, expires_at=self.clock() + ttl, used_at=None
                )
            )
        return code

    async def enrol(self, req: EnrolRequest) -> EnrolResponse:
        code_hash = _digest_secret(_normalise_code(req.code))
        now = self.clock()
        my_unit, _, _ = await self.my_unit()
        async with self.db.write() as conn:
            row = (await conn.execute(select(EnrolmentCode).where(EnrolmentCode.code_hash == code_hash))).first()
            if row is None or row.used_at is not None:
                raise SyncError(
                    403,
                    "bad_code",
                    "Mã đăng ký không đúng hoặc đã được dùng. Hãy xin cấp trên một mã mới.",
                    "The enrolment code is wrong or already used. Ask the parent for a new one.",
                )
            if _aware(row.expires_at) <= now:
                raise SyncError(
                    403,
                    "expired_code",
                    "Mã đăng ký đã hết hạn. Hãy xin cấp trên một mã mới.",
                    "The enrolment code has expired. Ask the parent for a new one.",
                )
            await conn.execute(update(EnrolmentCode).where(EnrolmentCode.code_hash == code_hash).values(used_at=now))
            unit = (
                await conn.execute(select(UnitRow.id, UnitRow.code, UnitRow.name).where(UnitRow.id == row.unit))
            ).one()
            node_id = uuid.uuid4()
            secret = secrets.token_urlsafe(32)
            await conn.execute(
                insert(ChildNode).values(
                    id=node_id,
                    unit=row.unit,
                    secret_hash=_digest_secret(secret),
                    label=req.label[:200],
                    enrolled_at=now,
                    software=req.software[:40],
                    protocol=req.protocol,
                    acked_push=0,
                    pull_cursor=0,
                    child_pending=0,
                    rejected=0,
                )
            )
        return EnrolResponse(
            node_id=node_id,
            credential=f"{node_id}.{secret}",
            unit=unit.id,
            unit_code=unit.code,
            unit_name=unit.name,
            parent_unit=my_unit,
        )

    async def rotate(self, node_id: uuid.UUID) -> str:
        """A new credential for a node; the old one stops working at once."""
        secret = secrets.token_urlsafe(32)
        async with self.db.write() as conn:
            result = await conn.execute(
                update(ChildNode)
                .where(ChildNode.id == node_id, ChildNode.revoked_at.is_(None))
                .values(secret_hash=_digest_secret(secret))
            )
        if result.rowcount == 0:
            raise SyncError(404, "no_node", "Không có nút này (hoặc đã bị thu hồi).", "No such active node.")
        self._auth_cache.clear()
        return f"{node_id}.{secret}"

    async def revoke(self, node_id: uuid.UUID) -> None:
        async with self.db.write() as conn:
            await conn.execute(update(ChildNode).where(ChildNode.id == node_id).values(revoked_at=self.clock()))
        self._auth_cache.clear()

    async def authenticate(self, authorization: str | None) -> Child:
        scheme, _, token = (authorization or "").partition(" ")
        cached = self._auth_cache.get(token)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        refused = SyncError(
            401,
            "bad_credential",
            "Thông tin xác thực của nút không hợp lệ hoặc đã bị thu hồi. Hãy đăng ký lại nút với mã mới.",
            "The node credential is invalid or revoked. Enrol the node again with a new code.",
        )
        node_part, _, secret = token.partition(".")
        if scheme.lower() != "bearer" or not secret:
            raise refused
        try:
            node_id = uuid.UUID(node_part)
        except ValueError:
            raise refused from None
        async with self.db.read(single=True) as conn:
            rows = await fetch(conn, _AUTH, {"node": node_id})
        if not rows:
            raise refused
        secret_hash, revoked_at, unit, path, depth, acked_push = rows[0]
        if revoked_at is not None or not hmac.compare_digest(secret_hash, _digest_secret(secret)):
            raise refused
        child = Child(node_id=node_id, unit=unit, path=path, depth=depth, acked_push=acked_push)
        self._auth_cache[token] = (time.monotonic() + self.settings.cache_seconds, child)
        return child
