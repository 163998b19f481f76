"""Issue 14 item 3: the index review's and the UUID blobs' migrations go down and up on both engines, rows kept."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from shared.db.engine import Database
from shared.db.migrate import alembic_config, upgrade
from shared.essays.records import ESSAY_GRADE, EssayGradeRecord
from shared.ids import new_id
from shared.sync import store
from tests.integration.test_store import DAY, small_tree

BEFORE = "ba5e0e90c4a1"


def _index_sql(connection: Connection) -> dict[str, str]:
    if connection.dialect.name == "postgresql":
        rows: Any = connection.execute(
            text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'essay_grades'")
        )
    else:
        rows = connection.execute(
            text("SELECT name, coalesce(sql, '') FROM sqlite_master WHERE type = 'index' AND tbl_name = 'essay_grades'")
        )
    return {str(name): str(sql) for name, sql in rows}


def _migrate(connection: Connection, direction: str, revision: str) -> dict[str, str]:
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    getattr(command, direction)(cfg, revision)
    return _index_sql(connection)


async def _run(db: Database, direction: str, revision: str) -> dict[str, str]:
    async with db.write() as conn:
        found: dict[str, str] = await conn.run_sync(_migrate, direction, revision)
        return found


async def test_the_index_review_migration_goes_down_and_up_with_the_rows_kept(db: Database) -> None:
    await upgrade(db)
    units = await small_tree(db)
    owner = units["H1B1"].id
    recs = [
        EssayGradeRecord(
            new_id(), owner, None, 1, False, new_id(), owner, new_id(), 1, Decimal("7.5"), "Khá", DAY, "obliged"
        )
        for _ in range(3)
    ]
    async with db.write() as conn:
        await store.apply(conn, ESSAY_GRADE, recs, origin=None)

    now = await _run(db, "upgrade", "head")
    assert "ix_essay_grades_member_unit" not in now
    assert "ix_essay_grades_member" not in now
    assert "ix_essay_grades_member_document" in now
    assert "audience IS NOT NULL" in now["ix_essay_grades_audience_seq"].replace("(", "").replace(")", "")

    assert await _stored_as(db) == ("blob" if db.sqlite else "uuid")
    down = await _run(db, "downgrade", BEFORE)
    assert await _stored_as(db) == (
        "text" if db.sqlite else "uuid"
    )  # SQLite: 32 hex digits again, as SQLAlchemy's Uuid keeps them
    assert "ix_essay_grades_member_unit" in down
    assert "ix_essay_grades_member" in down
    assert "ix_essay_grades_member_document" not in down
    assert "WHERE" not in down["ix_essay_grades_audience_seq"].upper()

    again = await _run(db, "upgrade", "head")
    assert again.keys() == now.keys()
    async with db.read() as conn:
        held = await store.held_versions(conn, ESSAY_GRADE, [r.id for r in recs])
        back = [rec for _, rec in await store.fetch(conn, ESSAY_GRADE, [r.id for r in recs])]
    assert set(held) == {r.id for r in recs}
    assert back == recs  # every UUID field (id, owner, member, member_unit, document) converted back intact
    assert await _stored_as(db) == ("blob" if db.sqlite else "uuid")


async def _stored_as(db: Database) -> str:
    """How the engine holds a grade's owner: `uuid` on PostgreSQL; on SQLite the storage class of the value."""
    sql = (
        "SELECT typeof(owner) FROM essay_grades LIMIT 1"
        if db.sqlite
        else "SELECT pg_typeof(owner)::text FROM essay_grades LIMIT 1"
    )
    async with db.read() as conn:
        return str((await conn.exec_driver_sql(sql)).scalar_one())
