"""The registry of every record type this program syncs, in apply order (units first)."""

from shared.records.units import UNIT
from shared.sync.registry import Registry


def build_registry() -> Registry:
    return Registry(UNIT)
