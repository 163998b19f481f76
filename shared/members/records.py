"""The members roster of a base unit (D12): personal data, so it travels no higher than the parent."""

from __future__ import annotations

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.meta import Base, Envelope
from shared.domain.obligations import OBLIGATIONS
from shared.sync.registry import Audience, Record, RecordType


class MemberRow(Envelope, Base):
    __tablename__ = "members"

    full_name: Mapped[str] = mapped_column(String(200))
    birth_year: Mapped[int] = mapped_column(Integer)
    obligation: Mapped[str] = mapped_column(String(20))
    post: Mapped[str] = mapped_column(String(200))
    rural_cell: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    note: Mapped[str] = mapped_column(Text, default="", server_default="")


class MemberRecord(Record, frozen=True):
    full_name: str
    birth_year: int
    obligation: str
    """One of OBLIGATIONS."""
    post: str = ""
    rural_cell: bool = False
    """Belongs to a rural Party cell (chi bộ nông thôn), which qualifies only the `rural_no_post` group (D12)."""
    note: str = ""


def validate(rec: MemberRecord) -> str | None:
    if rec.obligation not in OBLIGATIONS:
        return f"Diện đối tượng “{rec.obligation}” không hợp lệ (cho phép: {', '.join(OBLIGATIONS)})"
    if not rec.full_name.strip():
        return "Thiếu họ và tên đảng viên"
    if rec.obligation == "rural_no_post" and (rec.post.strip() or not rec.rural_cell):
        return "Diện “không giữ chức vụ, thuộc chi bộ nông thôn” cần chi bộ nông thôn và không có chức vụ (D12)"
    return None


MEMBER = RecordType(
    name="member",
    struct=MemberRecord,
    model=MemberRow,
    ceiling=1,
    audience=Audience.NONE,
    validate=validate,
    personal=True,
)
