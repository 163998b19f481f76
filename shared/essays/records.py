"""Essay grades (D10, D13), owned by the grading unit and aggregated to the province; essay templates (D11)."""

from __future__ import annotations

import functools
import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import JSON, Date, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.meta import Base, Envelope, Id
from shared.domain.errors import DomainError
from shared.domain.grades import band_of, parse_score
from shared.sync.registry import ROOT, Audience, Record, RecordType


class EssayGradeRow(Envelope, Base):
    __tablename__ = "essay_grades"

    member: Mapped[uuid.UUID] = mapped_column(Id)  # indexed with the document, below
    # No index of its own: every query on it also names the document, whose index PostgreSQL then combines with
    # the member's (docs/benchmarks.md, "index review"); one index fewer to maintain per pushed grade.
    member_unit: Mapped[uuid.UUID] = mapped_column(Id)
    document: Mapped[uuid.UUID] = mapped_column(Id, index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    score: Mapped[Decimal] = mapped_column(Numeric(4, 2))
    band: Mapped[str] = mapped_column(String(20))
    graded_on: Mapped[date] = mapped_column(Date)
    obligation: Mapped[str] = mapped_column(String(20))


# A member's attempts at a document (D13): the grading check, the latest-attempt anti-joins of the figures, the
# rewrites and the due list all look rows up by both. With the member alone, a node's SQLite (no statistics) could
# tie it with the document's index and probe a whole document's rows per grade (docs/benchmarks.md, index review).
Index("ix_essay_grades_member_document", EssayGradeRow.member, EssayGradeRow.document)


class EssayGradeRecord(Record, frozen=True):
    member: uuid.UUID
    member_unit: uuid.UUID
    """The member's own unit (a cell or base organisation), for figures by unit."""
    document: uuid.UUID
    attempt: int
    score: Decimal
    band: str
    graded_on: date
    obligation: str
    """Copied from the roster so aggregates above the roster's ceiling can count obliged and encouraged apart."""


def validate(rec: EssayGradeRecord) -> str | None:
    score = rec.score
    # Non-finite Decimals are not cached: a signalling NaN cannot even be hashed.
    check = _score_and_band_cached if score.is_finite() else _score_and_band
    reason = check(str(score), rec.band, score)
    if reason is not None:
        return reason
    if rec.attempt < 1:
        return "Lần viết phải từ 1 trở lên"
    return None


def _score_and_band(text: str, band: str, score: Decimal) -> str | None:
    try:
        parsed = parse_score(score)
    except DomainError as exc:
        return exc.message_vi
    if str(band_of(parsed)) != band:
        return f"Xếp loại “{band}” không khớp với điểm {text} (D13)"
    return None


# Scores take a few hundred values: a parent checking a push of thousands of grades checks each pair once. Keyed
# by the score's text too, so `8.5` and `8.50` (equal Decimals) each keep their own wording in a refusal.
_score_and_band_cached = functools.lru_cache(maxsize=4096)(_score_and_band)


ESSAY_GRADE = RecordType(
    name="essay_grade",
    struct=EssayGradeRecord,
    model=EssayGradeRow,
    ceiling=ROOT,
    audience=Audience.NONE,
    validate=validate,
    bulk=True,
)


class EssayTemplateRow(Envelope, Base):
    __tablename__ = "essay_templates"

    document: Mapped[uuid.UUID] = mapped_column(Id, index=True)
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


def validate_template(rec: EssayTemplateRecord) -> str | None:
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
    validate=validate_template,
)
