"""scoped feed reads: (owner, seq) and (audience, seq) on every synced table, the owner-only index dropped

Revision ID: e14a5c0feed1
Revises: 5a1e9b3c7d21
Create Date: 2026-12-06 04:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e14a5c0feed1"
down_revision: str | None = "5a1e9b3c7d21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENVELOPE = {"owner", "audience", "seq", "wire", "origin", "hash"}


def _synced_tables() -> list[str]:
    inspector = sa.inspect(op.get_bind())
    return [t for t in inspector.get_table_names() if {c["name"] for c in inspector.get_columns(t)} >= ENVELOPE]


def upgrade() -> None:
    for table in _synced_tables():
        # (owner, seq) serves every lookup the owner-only index did (its leading column), so that one goes.
        op.create_index(f"ix_{table}_owner_seq", table, ["owner", "seq"])
        op.create_index(f"ix_{table}_audience_seq", table, ["audience", "seq"])
        op.drop_index(f"ix_{table}_owner", table_name=table)


def downgrade() -> None:
    for table in _synced_tables():
        op.create_index(f"ix_{table}_owner", table, ["owner"])
        op.drop_index(f"ix_{table}_audience_seq", table_name=table)
        op.drop_index(f"ix_{table}_owner_seq", table_name=table)
