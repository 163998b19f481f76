"""The members roster of a base unit (D12): personal data, so it travels no higher than the parent."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.meta import Base, Envelope
from shared.sync.registry import Audience, Record, RecordType

OBLIGATIONS = ("obliged", "exempt", "health", "over_60", "retired", "rural_no_post")
"""D12: who must write an essay ("obliged") and why the others are only encouraged."""


class MemberRow(Envelope, Base):
    __tablename__ = "members"

    full_name: Mapped[str] = mapped_column(String(200))
    birth_year: Mapped[int] = mapped_column(Integer)
    obligation: Mapped[str] = mapped_column(String(20))
    post: Mapped[str] = mapped_column(String(200))


class MemberRecord(Record, frozen=True):
    full_name: str
    birth_year: int
    obligation: str
    """One of OBLIGATIONS."""
    post: str = ""


def validate(rec: MemberRecord) -> str | None:
    if rec.obligation not in OBLIGATIONS:
        return f"Diện đối tượng “{rec.obligation}” không hợp lệ (cho phép: {', '.join(OBLIGATIONS)})"
    if not rec.full_name.strip():
        return "Thiếu họ và tên đảng viên"
    return None


MEMBER = RecordType(
    name="member",
    struct=MemberRecord,
    model=MemberRow,
    ceiling=1,
    audience=Audience.NONE,
    validate=validate,  # type: ignore[arg-type]
    personal=True,
)
