"""Action programme targets (D15, D18): when a reported value meets its target."""

from __future__ import annotations

from decimal import Decimal


def target_met(baseline: Decimal, target_value: Decimal, value: Decimal) -> bool:
    """The value has reached the target in the direction from the baseline: a rising target is met at or above it,
    a falling one (fewer violations, a lower rate of ...) at or below it."""
    return value >= target_value if target_value >= baseline else value <= target_value
