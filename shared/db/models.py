"""Imports every table so the metadata Alembic and tests see is complete."""

from shared import catalogue as _catalogue  # noqa: F401  (registers every record type's table)
from shared.db.meta import Base
from shared.sync import tables as _sync_tables  # noqa: F401

metadata = Base.metadata
