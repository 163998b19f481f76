"""Running the Alembic migrations from the CLI and tests, on a live async engine.

Every `nqsync` command brings its database to the newest schema on start. Most of the time it already is, so the
check reads the recorded revision first and imports Alembic (and its template engine) only when there is work.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from shared.db.engine import Database
from shared.sync.tables import FeedCounter

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
_REVISION = re.compile(r'^revision: str = "([0-9a-f]+)"', re.M)
_DOWN = re.compile(r'^down_revision: str \| None = "([0-9a-f]+)"', re.M)


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


@functools.cache
def head_revision() -> str | None:
    """The newest revision in the migrations folder, read from the files (one linear history), or None if unclear."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        if rev := _REVISION.search(source):
            revisions.add(rev.group(1))
        if down := _DOWN.search(source):
            parents.add(down.group(1))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _current(connection: Connection) -> str | None:
    try:
        with connection.begin_nested():
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:
        return None  # a new database: no version table yet


def _upgrade(connection: Connection) -> None:
    head = head_revision()
    if head is None or _current(connection) != head:
        from alembic import command

        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
    if connection.execute(select(FeedCounter.id)).first() is None:
        connection.execute(insert(FeedCounter).values(id=1, last=0))


async def upgrade(db: Database) -> None:
    """Bring the database to the newest schema; safe to run again."""
    async with db.write() as conn:
        await conn.run_sync(_upgrade)
