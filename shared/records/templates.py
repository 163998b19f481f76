"""Essay templates (D11): written by a summoning level's lead agency, travelling down its subtree only."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import JSON, Date, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.meta import Base, Envelope
from shared.sync.registry import ROOT, Audience, Record, RecordType


class EssayTemplateRow(Envelope, Base):
    __tablename__ = "essay_templates"

    document: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    title: Mapped[str] = mapped_column(Text)
    for_whom: Mapped[str] = mapped_column(Text)
    questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    issued_on: Mapped[date] = mapped_column(Date)


class EssayTemplateRecord(Record, frozen=True):
    document: uuid.UUID
    title: str
    for_whom: str
    """Who writes with it: the delegates this level summons (D11)."""
    questions: list[str]
    """The questions (câu hỏi thu hoạch), or the sections of the form (mẫu phiếu): understanding, proposals,
    own responsibility (D10)."""
    issued_on: date


def validate(rec: EssayTemplateRecord) -> str | None:
    if not rec.title.strip():
        return "Thiếu tên mẫu bài thu hoạch"
    if not [q for q in rec.questions if q.strip()]:
        return "Mẫu bài thu hoạch phải có ít nhất một câu hỏi (D11)"
    return None


ESSAY_TEMPLATE = RecordType(
    name="essay_template",
    struct=EssayTemplateRecord,
    model=EssayTemplateRow,
    ceiling=ROOT,
    audience=Audience.OWNER,
    validate=validate,
)
