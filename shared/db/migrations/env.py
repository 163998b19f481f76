"""Alembic environment: the CLI passes a live connection; developers may run `alembic` with NQSYNC_DATABASE_URL."""

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from shared.db.models import metadata

config = context.config


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite can only alter tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_from_url(url: str) -> None:
    from shared.db.engine import Database

    db = Database(url)
    async with db.write() as conn:
        await conn.run_sync(run_with)
    await db.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    run_with(connection)
else:
    asyncio.run(run_from_url(os.environ.get("NQSYNC_DATABASE_URL", "sqlite+aiosqlite:///nqsync-dev.sqlite3")))
