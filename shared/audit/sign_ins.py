"""Sign-in attempts in the audit trail (D27, issue 15): who tried to sign in to this instance, from where and with
what outcome. Attempts are local to the instance that answered them (they are not synced): a unit's admin sees those
for the accounts of its subtree; attempts naming no account are shown at the instance's top level only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.accounts.records import SignInAttemptRow, UserRow
from shared.audit.service import AuditFilter, within_days
from shared.core.scope import UnitInfo
from shared.sync.tables import UnitRow

OUTCOMES_VI = {
    "ok": "Đăng nhập được",
    "bad_password": "Sai mật khẩu",
    "unknown_user": "Không có tài khoản này",
    "disabled": "Tài khoản đang bị khóa",
    "throttled": "Tạm chặn vì sai nhiều lần",
}


@dataclass(frozen=True, slots=True)
class SignInEntry:
    at: datetime
    """This instance's clock."""
    username: str
    unit_code: str
    address: str
    outcome: str
    outcome_vi: str


async def sign_ins(
    conn: AsyncConnection, viewer: UnitInfo, where: AuditFilter, limit: int = 500
) -> tuple[list[SignInEntry], bool]:
    """Attempts for accounts of the viewer's subtree, newest first, and whether more than `limit` matched."""
    a, u, unit = SignInAttemptRow.__table__, UserRow.__table__, UnitRow.__table__
    top_depth = await conn.scalar(select(func.min(unit.c.depth)).select_from(u.join(unit, unit.c.id == u.c.unit)))
    mine = unit.c.path.startswith(viewer.path, autoescape=True)
    seen = or_(mine, a.c.user_id.is_(None)) if viewer.depth == top_depth else mine
    stmt = (
        select(a.c.at, a.c.username, a.c.address, a.c.outcome, unit.c.code)
        .select_from(a.outerjoin(u, u.c.id == a.c.user_id).outerjoin(unit, unit.c.id == u.c.unit))
        .where(seen)
        .order_by(a.c.at.desc(), a.c.id.desc())
        .limit(limit + 1)
    )
    if where.username:
        stmt = stmt.where(a.c.username == where.username)
    stmt = stmt.where(*within_days(a.c.at, where.since, where.until))
    rows = (await conn.execute(stmt)).all()
    found = [
        SignInEntry(r.at, r.username, r.code or "", r.address, r.outcome, OUTCOMES_VI.get(r.outcome, r.outcome))
        for r in rows[:limit]
    ]
    return found, len(rows) > limit
