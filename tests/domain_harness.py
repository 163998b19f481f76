"""A unit tree with armed forces and cells, accounts per unit and role, and an API client, for domain tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import insert

from shared.api.auth import create_user, hash_password, open_session
from shared.app import create_app
from shared.db.engine import Database
from shared.domain.tree import Unit, UnitKind, Version
from shared.ids import new_id
from shared.records.units import store_units
from shared.settings import DatabaseSettings, Settings
from shared.sync.tables import Identity

DAY = date(2020, 1, 1)
# code: (parent, kind, armed forces)
TREE: dict[str, tuple[str | None, UnitKind, bool]] = {
    "TU": (None, UnitKind.COMMITTEE, False),
    "H1": ("TU", UnitKind.COMMITTEE, False),
    "H2": ("TU", UnitKind.COMMITTEE, False),
    "QS": ("TU", UnitKind.COMMITTEE, True),
    "H1B1": ("H1", UnitKind.BASE_ORGANISATION, False),
    "H1B2": ("H1", UnitKind.BASE_ORGANISATION, False),
    "H2B1": ("H2", UnitKind.BASE_ORGANISATION, False),
    "QSB1": ("QS", UnitKind.BASE_ORGANISATION, False),
    "H1B1C1": ("H1B1", UnitKind.CELL, False),
}
ROLES = ("viewer", "editor", "admin")
PASSWORD = "mat-khau-thu-nghiem"


@cache
def password_hash() -> str:
    """One argon2 hash per test session: hashing is deliberately slow."""
    return hash_password(PASSWORD)


def make_units(tree: dict[str, tuple[str | None, UnitKind, bool]] = TREE) -> dict[str, Unit]:
    ids = {code: new_id() for code in tree}
    out = {}
    for code, (parent, kind, armed) in tree.items():
        version = Version(DAY, code, f"Đơn vị {code}", ids[parent] if parent else None, kind.value, kind)
        out[code] = Unit(id=ids[code], armed_forces=armed, valid_from=DAY, valid_to=None, versions=(version,))
    return out


async def seed(db: Database, units: dict[str, Unit], *, role: str = "hub", unit: uuid.UUID | None = None) -> None:
    async with db.write() as conn:
        await store_units(conn, list(units.values()))
        await conn.execute(insert(Identity).values(id=1, role=role, unit=unit, created_at=datetime.now(UTC)))


async def account(db: Database, unit: uuid.UUID, role: str, username: str | None = None) -> dict[str, str]:
    """Create an account and sign it in; returns the request headers that carry its session."""
    async with db.write() as conn:
        user = await create_user(
            conn,
            username=username or f"u-{uuid.uuid4().hex[:10]}",
            unit=unit,
            role=role,
            password_hash=password_hash(),
        )
        token = await open_session(conn, user)
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Api:
    """A running app on a seeded database, with a signed-in account per (unit code, role)."""

    client: AsyncTestClient[Any]
    db: Database
    units: dict[str, Unit]
    headers: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    def id(self, code: str) -> uuid.UUID:
        return self.units[code].id

    def as_(self, code: str, role: str = "editor") -> dict[str, str]:
        return self.headers[(code, role)]

    async def call(self, method: str, url: str, who: tuple[str, str] = ("TU", "admin"), **kw: Any) -> Any:
        return await self.client.request(method, url, headers=self.headers[who], **kw)

    async def ok(self, method: str, url: str, who: tuple[str, str] = ("TU", "admin"), **kw: Any) -> Any:
        response = await self.call(method, url, who, **kw)
        assert response.status_code < 300, (method, url, response.status_code, response.text)
        return response.json() if response.content else None


@asynccontextmanager
async def running_api(
    db: Database, tmp: Path, *, accounts: tuple[str, ...] = ("TU", "H1", "H2", "QS", "H1B1", "H2B1")
) -> AsyncIterator[Api]:
    units = make_units()
    await seed(db, units)
    settings = Settings(data_dir=tmp, database=DatabaseSettings(url=db.url))
    app = create_app(settings, role="hub")
    async with AsyncTestClient(app=app) as client:
        api = Api(client, db, units)
        for code in accounts:
            for role in ROLES:
                api.headers[(code, role)] = await account(db, units[code].id, role)
        yield api
