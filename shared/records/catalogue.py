"""The registry of every record type this program syncs, in apply order (units first)."""

from shared.records.documents import DOCUMENT
from shared.records.essays import ESSAY_GRADE
from shared.records.members import MEMBER
from shared.records.units import UNIT
from shared.sync.registry import Registry


def build_registry() -> Registry:
    return Registry(UNIT, DOCUMENT, MEMBER, ESSAY_GRADE)
