"""UUIDs as 16-byte blobs on SQLite (`shared.db.meta.Id`); PostgreSQL keeps its native uuid, untouched

Revision ID: d7b10b5e16a1
Revises: c3d1a7e0b16f
Create Date: 2026-12-07 08:45:00

Every CHAR(32) column on SQLite is a UUID that SQLAlchemy's `Uuid` kept as 32 hex digits: record ids, owners,
audiences, origins, foreign keys, and the engine's own tables (identity, upstreams, child nodes, enrolment codes,
rejections). Each is converted in place (a Python function registered on the connection: SQLite has no `unhex`
before 3.41), then declared BLOB in batch mode, each table's indexes kept.
"""

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "d7b10b5e16a1"
down_revision: str | None = "c3d1a7e0b16f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _unhex(value: Any) -> Any:
    return bytes.fromhex(value) if isinstance(value, str) else value


def _tohex(value: Any) -> Any:
    return value.hex() if isinstance(value, bytes) else value


def _columns(declared: str) -> dict[str, list[str]]:
    """{table: [its columns declared `declared`]} of every table of this SQLite database."""
    inspector = sa.inspect(op.get_bind())
    found: dict[str, list[str]] = {}
    for table in inspector.get_table_names():
        cols = [c["name"] for c in inspector.get_columns(table) if str(c["type"]).upper() == declared]
        if cols:
            found[table] = cols
    return found


def _convert(declared: str, fn_name: str, fn: Callable[[Any], Any], new_type: Any) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    bind.connection.dbapi_connection.create_function(fn_name, 1, fn, deterministic=True)  # type: ignore[union-attr]
    for table, cols in _columns(declared).items():
        sets = ", ".join(f'"{c}" = {fn_name}("{c}")' for c in cols)
        op.execute(f'UPDATE "{table}" SET {sets}')
        with op.batch_alter_table(table) as batch:
            for c in cols:
                batch.alter_column(c, type_=new_type)


def upgrade() -> None:
    _convert("CHAR(32)", "nq_unhex", _unhex, sa.LargeBinary(16))


def downgrade() -> None:
    _convert("BLOB", "nq_tohex", _tohex, sa.Uuid())
