"""What is due at the boundary: the API's answer and each of its items (D27)."""

from __future__ import annotations

import uuid
from datetime import date

import msgspec


class DueOut(msgspec.Struct, frozen=True):
    kind: str
    """correction, issuance, report, plan, progress or rewrite."""
    kind_vi: str
    due: date | None
    days_left: int | None
    """Negative when late."""
    late: bool
    responsible: uuid.UUID
    responsible_code: str
    responsible_name: str
    subject: str
    ref: uuid.UUID | None


class WhatIsDue(msgspec.Struct, frozen=True):
    unit: uuid.UUID
    today: date
    until: date
    total: int
    late: int
    items: list[DueOut]
    """Most urgent first; at most `limit`."""
    assumptions: list[str]
