"""Action programme targets (D15, D18): when a reported value meets its target."""

from __future__ import annotations

from datetime import date
from decimal import Decimal


def target_met(baseline: Decimal, target_value: Decimal, value: Decimal) -> bool:
    """The value has reached the target in the direction from the baseline: a rising target is met at or above it,
    a falling one (fewer violations, a lower rate of ...) at or below it."""
    return value >= target_value if target_value >= baseline else value <= target_value


TARGET_STATES = ("on_track", "met", "overdue")
"""Đang thực hiện, đạt, quá hạn chưa đạt."""


def target_state(baseline: Decimal, target_value: Decimal, deadline: date, latest: Decimal | None, today: date) -> str:
    """D15, D18: `met` once the latest value reported meets the target, `overdue` when the deadline passed before
    `today` without that, else `on_track` — the one rule behind the pages, the API and the consolidation's counts."""
    if latest is not None and target_met(baseline, target_value, latest):
        return "met"
    return "overdue" if deadline < today else "on_track"
