"""Roster counts (D12, D26): how many members a unit has in each category, without names, travelling to the root.

The roster itself is personal data and stops at the parent (`members`); participation rates above that level
need the denominators, so the unit that writes a roster also publishes its counts. One record per unit, its id
derived from the unit's, revised whenever the counts are refreshed.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import JSON, Date, Integer
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.meta import Base, Envelope
from shared.domain.obligations import OBLIGATIONS
from shared.sync.registry import ROOT, Audience, Record, RecordType

_NAMESPACE = uuid.UUID("6b1f3c1e-7a55-4f0e-9d56-0c9a2f1b7e21")


class RosterCountRow(Envelope, Base):
    __tablename__ = "roster_counts"

    as_of: Mapped[date] = mapped_column(Date)
    obliged: Mapped[int] = mapped_column(Integer)
    encouraged: Mapped[int] = mapped_column(Integer)
    by_category: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)


class RosterCountRecord(Record, frozen=True):
    as_of: date
    obliged: int
    """Members who must write an essay (D12)."""
    encouraged: int
    """Members encouraged but not obliged (exempt, health, over 60, retired, rural without post)."""
    by_category: dict[str, int]
    """Members per D12 category (`OBLIGATIONS`)."""


def roster_count_id(unit: uuid.UUID) -> uuid.UUID:
    """The one roster-count record of a unit."""
    return uuid.uuid5(_NAMESPACE, unit.hex)


def validate(rec: RosterCountRecord) -> str | None:
    if rec.obliged < 0 or rec.encouraged < 0 or any(v < 0 for v in rec.by_category.values()):
        return "Số đảng viên không được âm (D12)"
    if any(k not in OBLIGATIONS for k in rec.by_category):
        return "Diện đối tượng không hợp lệ (D12)"
    if sum(rec.by_category.values()) != rec.obliged + rec.encouraged:
        return "Tổng theo diện không khớp số bắt buộc và khuyến khích (D12)"
    if rec.id != roster_count_id(rec.owner):
        return "Mỗi đơn vị chỉ có một bản ghi số lượng đảng viên"
    return None


ROSTER_COUNT = RecordType(
    name="roster_count",
    struct=RosterCountRecord,
    model=RosterCountRow,
    ceiling=ROOT,
    audience=Audience.NONE,
    validate=validate,
)
