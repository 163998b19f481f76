"""audit trail: append-only entries, synced up (D27)

Revision ID: a0d17e27a0d1
Revises: 4178b0e403ff
Create Date: 2026-12-06 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a0d17e27a0d1"
down_revision: str | None = "e14a5c0feed1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("audit_entries", "audit_entries_personal")
INDEXED = ("owner", "record_type", "record_id", "username", "at")


def upgrade() -> None:
    for table in TABLES:
        op.create_table(
            table,
            sa.Column("record_type", sa.String(length=64), nullable=False),
            sa.Column("record_id", sa.Uuid(), nullable=False),
            sa.Column("record_rev", sa.BigInteger(), nullable=False),
            sa.Column("action", sa.String(length=10), nullable=False),
            sa.Column("changes", sa.JSON(), nullable=False),
            sa.Column("account", sa.Uuid(), nullable=True),
            sa.Column("username", sa.String(length=100), nullable=False),
            sa.Column("full_name", sa.String(length=200), nullable=False),
            sa.Column("actor_unit", sa.Uuid(), nullable=True),
            sa.Column("role", sa.String(length=20), nullable=False),
            sa.Column("via", sa.String(length=10), nullable=False),
            sa.Column("instance", sa.Uuid(), nullable=True),
            sa.Column("address", sa.String(length=100), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("id", sa.Uuid(), nullable=False),
            sa.Column("owner", sa.Uuid(), nullable=False),
            sa.Column("audience", sa.Uuid(), nullable=True),
            sa.Column("rev", sa.BigInteger(), nullable=False),
            sa.Column("deleted", sa.Boolean(), nullable=False),
            sa.Column("seq", sa.BigInteger(), nullable=False),
            sa.Column("origin", sa.Uuid(), nullable=True),
            sa.Column("wire", sa.LargeBinary(), nullable=False),
            sa.Column("hash", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in INDEXED:
                batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)
            batch_op.create_index(batch_op.f(f"ix_{table}_seq"), ["seq"], unique=True)


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
