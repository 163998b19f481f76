"""Running the Alembic migrations from the CLI and tests, on a live async engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from shared.db.engine import Database
from shared.sync.tables import FeedCounter

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _upgrade(connection: Connection) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")
    if connection.execute(select(FeedCounter.id)).first() is None:
        connection.execute(insert(FeedCounter).values(id=1, last=0))


async def upgrade(db: Database) -> None:
    """Bring the database to the newest schema; safe to run again."""
    async with db.write() as conn:
        await conn.run_sync(_upgrade)
