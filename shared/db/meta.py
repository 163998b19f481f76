"""The declarative base, its naming convention and the envelope every synced record carries."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import BigInteger, Boolean, Dialect, Index, LargeBinary, MetaData, TypeDecorator, Uuid, text
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

# Named constraints make Alembic migrations reproducible on both engines (SQLite batch mode needs names).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _uuid_bytes(value: Any) -> bytes | None:
    """A UUID (or a record view's 16 bytes, or its text) as the 16 bytes SQLite stores."""
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, uuid.UUID):
        return value.bytes
    return uuid.UUID(str(value)).bytes


def _bytes_uuid(value: Any) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(bytes=bytes(value))


class Id(TypeDecorator[uuid.UUID]):
    """A UUID column: PostgreSQL's native `uuid`; on SQLite its 16 bytes as a BLOB.

    SQLAlchemy's own `Uuid` keeps 32 hex digits as text on SQLite: twice the bytes in every row and index entry, and
    a hex conversion for every value written and read (issue 14, item 3). Raw SQL on SQLite binds ids as bytes.
    """

    impl = Uuid
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        return dialect.type_descriptor(LargeBinary(16) if dialect.name == "sqlite" else Uuid())

    def bind_processor(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return _uuid_bytes
        return Uuid().bind_processor(dialect)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        if dialect.name == "sqlite":
            return _bytes_uuid
        return Uuid().result_processor(dialect, coltype)  # type: ignore[no-untyped-call]

    def literal_processor(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return lambda value: f"X'{_uuid_bytes(value).hex()}'"  # type: ignore[union-attr]
        return Uuid().literal_processor(dialect)  # type: ignore[no-untyped-call]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Envelope:
    """Columns of every synced record (ARCHITECTURE.md, "Records, owners and flows").

    `id`, `owner`, `audience`, `rev` and `deleted` travel on the wire; `seq`, `origin`, `wire` and `hash` are
    local: `seq` orders this database's feed, `origin` is the peer unit that delivered the stored version (NULL when
    it was written here) so a row is never echoed back to where it came from, `wire` is the version exactly as its
    owner encoded it (relayed as is, never re-encoded), and `hash` is its CRC32, summed into the digests that
    `node verify` compares.
    """

    id: Mapped[uuid.UUID] = mapped_column(Id, primary_key=True)
    owner: Mapped[uuid.UUID] = mapped_column(Id)
    audience: Mapped[uuid.UUID | None] = mapped_column(Id)
    rev: Mapped[int] = mapped_column(BigInteger)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    seq: Mapped[int] = mapped_column(BigInteger, index=True, unique=True)
    origin: Mapped[uuid.UUID | None] = mapped_column(Id)
    wire: Mapped[bytes] = mapped_column(LargeBinary)
    hash: Mapped[int] = mapped_column(BigInteger)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        """Scoped feed reads: a pull reaches in-scope rows by (owner, seq) and (audience, seq), not by seq alone.

        The audience index holds addressed rows only: the scan asks `audience = ANY(...)`, which no NULL matches, and
        types that travel only up (essay grades, responses) then keep an empty index instead of one entry per row.
        """
        name = cls.__tablename__  # type: ignore[attr-defined]
        addressed = text("audience IS NOT NULL")
        return (
            Index(f"ix_{name}_owner_seq", "owner", "seq"),
            Index(f"ix_{name}_audience_seq", "audience", "seq", postgresql_where=addressed, sqlite_where=addressed),
        )


ENVELOPE_WIRE_FIELDS = ("id", "owner", "audience", "rev", "deleted")
ENVELOPE_LOCAL_FIELDS = ("seq", "origin", "wire", "hash")
