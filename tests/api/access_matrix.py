"""The D4/D27 access matrix: a route tried as every role on a target in scope and one out of scope."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from shared.accounts.records import ROLES, UserRow
from shared.db.engine import Database
from shared.sync.tables import FeedCounter
from tests.domain_harness import Api, Maker


@dataclass(frozen=True)
class Side:
    """The units a request targets: the caller's district (in scope) or its sibling (out of scope, D4)."""

    unit: str
    base: str


IN, OUT = Side("H1", "H1B1"), Side("H2", "H2B1")
Request = tuple[str, str, dict[str, Any]]
Factory = Callable[[Maker, Side], Awaitable[Request]]


async def _state(db: Database) -> tuple[int, int]:
    async with db.read() as conn:
        head = (await conn.execute(select(FeedCounter.last))).scalar_one()
        users = (await conn.execute(select(func.count()).select_from(UserRow))).scalar_one()
    return int(head), int(users)


async def matrix_failures(api: Api, routes: list[tuple[str, str, Factory]]) -> list[str]:
    """Try every route as each role of the caller's district, on a target in scope and one out of scope."""
    mk = Maker(api)
    sibling = {str(api.id(c)) for c in ("H2", "H2B1")}
    failures: list[str] = []
    for required, label, factory in routes:
        # A request that changes nothing (a read, or a role that is refused) reuses one prepared target per side;
        # each allowed write gets fresh targets.
        shared = {side: await factory(mk, side) for side in (IN, OUT)}
        for role in ROLES:
            allowed = ROLES.index(role) >= ROLES.index(required)
            for side in (IN, OUT):
                method, url, kwargs = shared[side]
                if allowed and method != "GET":
                    method, url, kwargs = await factory(mk, side)
                sibling_ids = sibling | _ids_created_for(side, mk)
                before = await _state(api.db)
                response = await api.client.request(method, url, headers=api.as_(IN.unit, role), **kwargs)
                after = await _state(api.db)
                where = f"{label} as {role} {'in' if side is IN else 'out of'} scope -> {response.status_code}"
                body = response.text
                if not allowed:
                    if response.status_code != 403 or after != before:
                        failures.append(f"{where}: role should be refused (D27) {body[:200]}")
                elif side is IN:
                    if response.status_code >= 300:
                        failures.append(f"{where}: should succeed {body[:300]}")
                else:
                    if response.status_code < 300 and (method != "GET" or any(i in body for i in sibling_ids)):
                        failures.append(f"{where}: read or wrote a sibling's data (D4) {body[:300]}")
                    if after != before:
                        failures.append(f"{where}: changed something out of scope (D4)")
                if response.status_code >= 400 and "message_en" not in response.json():
                    failures.append(f"{where}: a refusal must say why in Vietnamese and English")
    return failures


def _ids_created_for(side: Side, mk: Maker) -> set[str]:
    # Sibling records are recognised by their owner's unit id in the body (every API struct carries `unit`).
    return set() if side is IN else {str(mk.api.id(side.unit)), str(mk.api.id(side.base))}
