"""What a consolidation is asked for (document, review, level, cut-off), and the one function that answers it for
every route, page and job (D4, D20, D26)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from shared.consolidation.service import consolidate
from shared.core.errors import Refusal
from shared.core.scope import Caller, unit_in_scope
from shared.domain.calendar import ReviewKind
from shared.domain.consolidation import (
    Consolidation,
)
from shared.domain.formatting import VIETNAM_TIME

KINDS = {kind.name.lower(): kind for kind in ReviewKind}


def review_kind(kind: str) -> str:
    """The review asked for, or a 400 naming `kind`."""
    if kind not in KINDS:
        raise Refusal(
            400,
            "invalid",
            f"Loại báo cáo «{kind}» không hợp lệ; chọn preliminary (sơ kết) hoặc final (tổng kết).",
            f"Unknown review «{kind}»; choose preliminary or final.",
            field="kind",
            rule="D16",
        )
    return kind


@dataclass(frozen=True, slots=True)
class ConsolidationQuery:
    """What every consolidation route is asked for: the document, the review, the level and the cut-off."""

    document: uuid.UUID
    kind: str
    unit: uuid.UUID | None
    cut_off: date | None


async def consolidation_for(
    conn: AsyncConnection, caller: Caller, asked: ConsolidationQuery, *, with_bases: bool = False
) -> Consolidation:
    """A unit's consolidation, the caller's own unit by default; a unit outside the caller's subtree is refused (D4).

    A document the unit does not hold is refused as a bad parameter (400, field `document`).
    """
    kind = review_kind(asked.kind)
    top = await unit_in_scope(conn, caller, asked.unit)
    try:
        return await consolidate(
            conn,
            top,
            asked.document,
            kind,
            today=datetime.now(VIETNAM_TIME).date(),
            cut_off=asked.cut_off,
            with_bases=with_bases,
        )
    except Refusal as exc:
        p = exc.problem
        if p.field != "document":
            raise
        raise Refusal(400, p.code, p.message, p.message_en, field=p.field, rule=p.rule) from None
