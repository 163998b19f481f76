"""People who sign in to one instance (D27). Local tables, never synced: each hub or node has its own accounts."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, DateTime, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.meta import Base, Id

ROLES = ("viewer", "editor", "admin")
"""In rising order: read; also enter and edit records; also committee decisions, accounts and node health."""
ROLE_LABELS_VI = {"viewer": "Xem", "editor": "Cán bộ nhập liệu", "admin": "Bí thư / quản trị"}


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Id, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    unit: Mapped[uuid.UUID] = mapped_column(Id, index=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    """Set for an account made by `user-add` or given a new password by an admin: the first sign-in leads to the
    change-password page, and the API answers `password_change_required` until it is done."""


class SessionRow(Base):
    """A signed-in session; only the SHA-256 of its token is kept."""

    __tablename__ = "user_sessions"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Id, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    """Last request on this session (kept to the minute): the idle timeout counts from here."""


SIGN_IN_OUTCOMES = ("ok", "bad_password", "unknown_user", "disabled", "throttled")


class SignInAttemptRow(Base):
    """Every sign-in attempt and its outcome: the throttle counts recent failures here; the audit trail shows them."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (
        Index("ix_sign_in_attempts_username_at", "username", "at"),
        Index("ix_sign_in_attempts_address_at", "address", "at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Id, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """This instance's clock."""
    username: Mapped[str] = mapped_column(String(100))
    """As typed (cut to 100 characters), whether or not such an account exists."""
    user_id: Mapped[uuid.UUID | None] = mapped_column(Id, nullable=True)
    """The account, when the username names one."""
    address: Mapped[str] = mapped_column(String(64))
    """The client's address (from a trusted proxy's X-Forwarded-For when behind one)."""
    outcome: Mapped[str] = mapped_column(String(20))
    """One of SIGN_IN_OUTCOMES."""
