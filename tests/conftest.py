"""Real databases for every test: a fresh PostgreSQL database (from a migrated template) or a fresh SQLite file.

URLs come from NQSYNC_TEST_DATABASE_URL (an admin URL to any database on the server) and NQSYNC_TEST_REDIS_URL,
defaulting to the local services.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from shared.db.engine import Database
from shared.db.migrate import upgrade
from shared.settings import sqlite_url

PG_ADMIN_URL = os.environ.get("NQSYNC_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
# One Redis database per pytest-xdist worker (gw0 → 9, gw1 → 10, ...): each test flushes its own.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_URL = os.environ.get("NQSYNC_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{9 + _WORKER}")
TEMPLATE = f"nqsync_tpl_{os.getpid()}"


def _dsn(url: str, database: str | None = None) -> str:
    u = make_url(url)
    if database:
        u = u.set(database=database)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def _sa_url(database: str) -> str:
    return make_url(PG_ADMIN_URL).set(database=database).render_as_string(hide_password=False)


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(_dsn(PG_ADMIN_URL))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated PostgreSQL database that each test copies (CREATE DATABASE ... TEMPLATE is fast)."""

    async def make() -> None:
        await _admin(f'DROP DATABASE IF EXISTS "{TEMPLATE}"')
        await _admin(f'CREATE DATABASE "{TEMPLATE}"')
        db = Database(_sa_url(TEMPLATE))
        await upgrade(db)
        await db.dispose()

    asyncio.run(make())
    yield TEMPLATE
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.sqlite3"

    async def make() -> None:
        db = Database(sqlite_url(path))
        await upgrade(db)
        await db.dispose()

    asyncio.run(make())
    return path


@pytest.fixture
def make_database_url(pg_template: str, sqlite_template: Path, tmp_path: Path) -> Iterator[object]:
    """Factory: a fresh, migrated database URL of the given backend ("sqlite" or "postgresql")."""
    created: list[str] = []

    async def make(backend: str) -> str:
        if backend == "sqlite":
            path = tmp_path / f"db-{uuid.uuid4().hex[:8]}.sqlite3"
            shutil.copyfile(sqlite_template, path)
            return sqlite_url(path)
        name = f"nqsync_t_{uuid.uuid4().hex[:12]}"
        await _admin(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
        created.append(name)
        return _sa_url(name)

    yield make
    for name in created:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, make_database_url: object) -> AsyncIterator[Database]:
    """A fresh migrated database on each backend: the same storage tests run on both."""
    url = await make_database_url(request.param)  # type: ignore[operator]
    database = Database(url)
    yield database
    await database.dispose()
