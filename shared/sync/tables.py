"""The engine's own bookkeeping tables: the feed counter, this node's identity, peers, credentials, rejections."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.meta import Base, Envelope, Id


class UnitRow(Envelope, Base):
    """The unit tree: scopes are paths in it, so the engine owns this table (its record type lives in records/)."""

    __tablename__ = "units"

    code: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(300))
    level: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    depth: Mapped[int] = mapped_column(Integer)
    armed_forces: Mapped[bool] = mapped_column(Boolean, default=False)
    parent: Mapped[uuid.UUID | None] = mapped_column(Id, index=True)
    path: Mapped[str] = mapped_column(String(1000), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    successors: Mapped[list[str]] = mapped_column(JSON, default=list)
    versions: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)


class FeedCounter(Base):
    """The one local sequence. Taking seqs locks this row until commit, so seqs become visible in order.

    That is how the out-of-order commit trap is closed on PostgreSQL (ARCHITECTURE.md): a writer holding seq 100
    blocks the next writer from taking 101 until it has committed, so a reader that sees 101 has already seen 100.
    On SQLite the database's own write lock gives the same order.
    """

    __tablename__ = "feed_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(BigInteger)
    collected: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """The highest seq of a tombstone collected here: a child whose pull cursor is below it may have missed that
    deletion, so it verifies by digest before pulling on (`shared.sync.tombstones`)."""
    epoch: Mapped[str] = mapped_column(String(32), default="", server_default="")
    """Set anew by every restore from a backup (`shared.sync.restore`): the feed's seqs went back in time, so it is
    part of every scope token and no child trusts a cursor earned in the feed before the restore."""


class Identity(Base):
    """Who this instance is: its role and the unit it serves (one row; the hub's unit is the root)."""

    __tablename__ = "identity"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(10))  # "hub" or "node"
    unit: Mapped[uuid.UUID | None] = mapped_column(Id)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Upstream(Base):
    """A child's state with one parent it has synced with (its district, or the hub directly)."""

    __tablename__ = "upstreams"

    url: Mapped[str] = mapped_column(String(500), primary_key=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    """Lower is tried first: the node's own parent, then fallbacks such as the hub directly."""
    credential: Mapped[str] = mapped_column(String(200))
    """This node's secret at that parent; the parent keeps only its hash."""
    parent_unit: Mapped[uuid.UUID | None] = mapped_column(Id)
    pull_cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    push_cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    scope: Mapped[str] = mapped_column(String(64), default="")
    """Token of the scope `pull_cursor` was earned under; a different token from the parent means re-sync."""
    last_attempt: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_push: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_pull: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_verify: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0)


class ChildNode(Base):
    """A child node enrolled at this parent, its hashed credential and what the parent knows of its health."""

    __tablename__ = "child_nodes"

    id: Mapped[uuid.UUID] = mapped_column(Id, primary_key=True)
    unit: Mapped[uuid.UUID] = mapped_column(Id, index=True)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(64))
    label: Mapped[str] = mapped_column(String(200), default="")
    enrolled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_contact: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_push: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_pull: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    protocol: Mapped[int | None] = mapped_column(Integer)
    software: Mapped[str | None] = mapped_column(String(40))
    acked_push: Mapped[int] = mapped_column(BigInteger, default=0)
    """The child's own seq up to which this parent has applied its pushes."""
    pull_cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    """This parent's seq up to which the child has been sent what it should hold (the cursor of the last reply)."""
    acked_pull: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """This parent's seq up to which the child has applied what it pulled: the cursor it last pulled from."""
    child_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    """Rows the child said it still had to push, at its last contact."""
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    """Records of this child refused at the last push (each with its reason, kept at the child)."""


class EnrolmentCode(Base):
    """A one-time, expiring code a parent issues so a node for `unit` can obtain its credential."""

    __tablename__ = "enrolment_codes"

    code_hash: Mapped[bytes] = mapped_column(LargeBinary(64), primary_key=True)
    unit: Mapped[uuid.UUID] = mapped_column(Id)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Rejection(Base):
    """A record of this node that its parent refused, with the reason; cleared when a later version is accepted."""

    __tablename__ = "rejections"

    record_id: Mapped[uuid.UUID] = mapped_column(Id, primary_key=True)
    type: Mapped[str] = mapped_column(String(60))
    rev: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
