"""Study sessions (D8) and propaganda activities (D9): owned by the unit that held them, aggregated up to the root."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import JSON, Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.meta import Base, Envelope, Id
from shared.sync.registry import ROOT, Audience, Record, RecordType

SESSION_FORMS = ("in_person", "online", "mixed")
"""D8: trực tiếp, trực tuyến, kết hợp."""
CHANNELS = ("cultural", "loudspeaker", "oral", "it")
"""D9: cultural institutions, commune loudspeakers, oral propaganda (reporters, propagandists), IT."""


class StudySessionRow(Envelope, Base):
    __tablename__ = "study_sessions"

    title: Mapped[str] = mapped_column(Text)
    documents: Mapped[list[str]] = mapped_column(JSON, default=list)
    held_on: Mapped[date] = mapped_column(Date, index=True)
    form: Mapped[str] = mapped_column(String(20))
    participants: Mapped[str] = mapped_column(Text)
    invited: Mapped[int] = mapped_column(Integer)
    attended: Mapped[int] = mapped_column(Integer)


class StudySessionRecord(Record, frozen=True):
    title: str
    documents: list[uuid.UUID]
    held_on: date
    form: str
    participants: str
    """Who it was for, in the organiser's words (cán bộ chủ chốt, toàn thể đảng viên ...): fitted per audience (D8)."""
    invited: int
    attended: int


class PropagandaRow(Envelope, Base):
    __tablename__ = "propaganda"

    channel: Mapped[str] = mapped_column(String(20))
    document: Mapped[uuid.UUID | None] = mapped_column(Id, index=True)
    period_start: Mapped[date] = mapped_column(Date, index=True)
    period_end: Mapped[date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(Integer)
    reached: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text)


class PropagandaRecord(Record, frozen=True):
    channel: str
    document: uuid.UUID | None
    period_start: date
    period_end: date
    count: int
    """Activities in the period: broadcasts, talks, articles, posts."""
    reached: int
    """People reached, as the unit estimates them."""
    note: str = ""


def validate_session(rec: StudySessionRecord) -> str | None:
    if rec.form not in SESSION_FORMS:
        return f"Hình thức “{rec.form}” không hợp lệ (D8)"
    if not rec.documents:
        return "Buổi học tập phải gắn với ít nhất một văn bản (D8)"
    if rec.invited < 0 or not 0 <= rec.attended <= rec.invited:
        return "Số tham dự phải từ 0 đến số được triệu tập (D8)"
    return None


def validate_propaganda(rec: PropagandaRecord) -> str | None:
    if rec.channel not in CHANNELS:
        return f"Kênh tuyên truyền “{rec.channel}” không hợp lệ (D9)"
    if rec.count < 0 or rec.reached < 0:
        return "Số lượng không được âm (D9)"
    if rec.period_end < rec.period_start:
        return "Kỳ báo cáo kết thúc trước khi bắt đầu"
    return None


STUDY_SESSION = RecordType(
    name="study_session",
    struct=StudySessionRecord,
    model=StudySessionRow,
    ceiling=ROOT,
    audience=Audience.NONE,
    validate=validate_session,
)
PROPAGANDA = RecordType(
    name="propaganda",
    struct=PropagandaRecord,
    model=PropagandaRow,
    ceiling=ROOT,
    audience=Audience.NONE,
    validate=validate_propaganda,
)
