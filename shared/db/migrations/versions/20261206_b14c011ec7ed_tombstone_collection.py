"""tombstone collection: the pull cursor each child acknowledged, and the feed's collection horizon

Revision ID: b14c011ec7ed
Revises: a0d17e27a0d1
Create Date: 2026-12-06 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b14c011ec7ed"
down_revision: str | None = "a0d17e27a0d1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("child_nodes") as batch:
        batch.add_column(sa.Column("acked_pull", sa.BigInteger(), nullable=False, server_default="0"))
    with op.batch_alter_table("feed_counter") as batch:
        batch.add_column(sa.Column("collected", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("feed_counter") as batch:
        batch.drop_column("collected")
    with op.batch_alter_table("child_nodes") as batch:
        batch.drop_column("acked_pull")
