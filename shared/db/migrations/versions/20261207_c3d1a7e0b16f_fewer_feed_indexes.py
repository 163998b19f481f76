"""fewer indexes on the synced tables: (audience, seq) holds addressed rows only; essay grades lose member_unit,
and (member, document) replaces member

Revision ID: c3d1a7e0b16f
Revises: ba5e0e90c4a1
Create Date: 2026-12-07 08:30:00

Checked against every query plan (bench/explain_indexes.py, docs/benchmarks.md "index review"): no query looks up
a NULL audience, so the audience index leaves those rows out (essay grades, which travel only up, keep it empty);
`ix_essay_grades_member_unit` served one plan only (a district's essay figures, combined with the document's
index), which reads the document's rows as fast without it. Every query on `member` also names the document, and
with `member` alone SQLite (no statistics) could prefer the document's index for them: (member, document) instead.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3d1a7e0b16f"
down_revision: str | None = "ba5e0e90c4a1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENVELOPE = {"owner", "audience", "seq", "wire", "origin", "hash"}
ADDRESSED = sa.text("audience IS NOT NULL")


def _with_audience_index() -> list[str]:
    """Synced tables holding `ix_<table>_audience_seq` (the audit tables, created after it, never had one)."""
    inspector = sa.inspect(op.get_bind())
    return [
        t
        for t in inspector.get_table_names()
        if {c["name"] for c in inspector.get_columns(t)} >= ENVELOPE
        and f"ix_{t}_audience_seq" in {i["name"] for i in inspector.get_indexes(t)}
    ]


def upgrade() -> None:
    for table in _with_audience_index():
        op.drop_index(f"ix_{table}_audience_seq", table_name=table)
        op.create_index(
            f"ix_{table}_audience_seq",
            table,
            ["audience", "seq"],
            postgresql_where=ADDRESSED,
            sqlite_where=ADDRESSED,
        )
    op.drop_index("ix_essay_grades_member_unit", table_name="essay_grades")
    op.drop_index("ix_essay_grades_member", table_name="essay_grades")
    op.create_index("ix_essay_grades_member_document", "essay_grades", ["member", "document"])


def downgrade() -> None:
    op.create_index("ix_essay_grades_member_unit", "essay_grades", ["member_unit"])
    op.create_index("ix_essay_grades_member", "essay_grades", ["member"])
    op.drop_index("ix_essay_grades_member_document", table_name="essay_grades")
    for table in _with_audience_index():
        op.drop_index(f"ix_{table}_audience_seq", table_name=table)
        op.create_index(f"ix_{table}_audience_seq", table, ["audience", "seq"])
