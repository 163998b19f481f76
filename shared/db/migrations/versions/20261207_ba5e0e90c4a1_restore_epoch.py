"""restore epoch: a restore from a backup starts a new epoch of the feed, part of every scope token

Revision ID: ba5e0e90c4a1
Revises: b14c011ec7ed
Create Date: 2026-12-07 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ba5e0e90c4a1"
down_revision: str | None = "b14c011ec7ed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feed_counter") as batch:
        batch.add_column(sa.Column("epoch", sa.String(32), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("feed_counter") as batch:
        batch.drop_column("epoch")
