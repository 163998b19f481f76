"""Synthetic study-round activity for the synthetic province: roster counts and essays, no person anywhere.

At full scale about 119,000 members (DOMAIN.md, "Scale") spread over the cells and the base organisations that
have no cells, every member graded once, the weak ones partly rewritten. Each roster-holding unit grades its
own members (D13: the base organisation grades its own), so the records are what the hub holds after sync.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from shared.domain.grades import band_of
from shared.domain.obligations import OBLIGATIONS, OBLIGED
from shared.domain.tree import Unit, UnitKind
from shared.ids import new_id
from shared.records.essays import EssayGradeRecord
from shared.records.rosters import RosterCountRecord, roster_count_id

FULL_MEMBERS = 119_000
_ENCOURAGED = tuple(o for o in OBLIGATIONS if o != OBLIGED)


def roster_units(units: Sequence[Unit]) -> list[Unit]:
    """Units holding a roster: cells, and base organisations without cells of their own."""
    parents = {u.current.parent for u in units}
    return [
        u
        for u in units
        if u.current.kind is UnitKind.CELL or (u.current.kind is UnitKind.BASE_ORGANISATION and u.id not in parents)
    ]


@dataclass(frozen=True, slots=True)
class SampleRound:
    """What one synthetic study round produced: counts per roster unit and every graded attempt."""

    rosters: list[RosterCountRecord]
    essays: list[EssayGradeRecord]


def sample_round(
    units: Sequence[Unit],
    document: uuid.UUID,
    *,
    members: int = FULL_MEMBERS,
    graded_from: date,
    seed: int = 2025,
) -> SampleRound:
    """A study round over `units` with about `members` members, each graded once; ~3% Yếu, half of them rewritten."""
    rng = random.Random(seed)
    holders = roster_units(units)
    per_unit = _spread(rng, members, len(holders))
    rosters: list[RosterCountRecord] = []
    essays: list[EssayGradeRecord] = []
    for unit, count in zip(holders, per_unit, strict=True):
        categories: dict[str, int] = {}
        for _ in range(count):
            obligation = OBLIGED if rng.random() < 0.8 else rng.choice(_ENCOURAGED)
            categories[obligation] = categories.get(obligation, 0) + 1
            if obligation != OBLIGED and rng.random() < 0.35:
                continue  # an encouraged member who wrote nothing is not a shortfall (D12)
            if obligation == OBLIGED and rng.random() < 0.02:
                continue  # an obliged member who has not written: a shortfall
            essays.extend(_attempts(rng, unit.id, document, obligation, graded_from))
        obliged = categories.get(OBLIGED, 0)
        rosters.append(
            RosterCountRecord(
                id=roster_count_id(unit.id),
                owner=unit.id,
                audience=None,
                rev=1,
                deleted=False,
                as_of=graded_from,
                obliged=obliged,
                encouraged=count - obliged,
                by_category=categories,
            )
        )
    return SampleRound(rosters, essays)


def _spread(rng: random.Random, total: int, slots: int) -> list[int]:
    weights = [rng.uniform(0.5, 1.5) for _ in range(slots)]
    scale = total / sum(weights)
    counts = [int(w * scale) for w in weights]
    for i in rng.sample(range(slots), total - sum(counts)):
        counts[i] += 1
    return counts


def _score(rng: random.Random) -> Decimal:
    roll = rng.random()
    if roll < 0.03:
        tenths = rng.randint(20, 49)
    elif roll < 0.15:
        tenths = rng.randint(50, 69)
    elif roll < 0.70:
        tenths = rng.randint(70, 89)
    else:
        tenths = rng.randint(90, 100)
    return Decimal(tenths).scaleb(-1)


def _attempts(
    rng: random.Random, unit: uuid.UUID, document: uuid.UUID, obligation: str, start: date
) -> Iterator[EssayGradeRecord]:
    member = uuid.UUID(int=rng.getrandbits(128), version=4)
    day = start + timedelta(days=rng.randint(0, 20))
    score = _score(rng)
    attempt = 1
    while True:
        yield EssayGradeRecord(
            id=new_id(),
            owner=unit,
            audience=None,
            rev=1,
            deleted=False,
            member=member,
            member_unit=unit,
            document=document,
            attempt=attempt,
            score=score,
            band=str(band_of(score)),
            graded_on=day,
            obligation=obligation,
        )
        if score >= 5 or rng.random() < 0.5:
            return
        attempt += 1
        day += timedelta(days=rng.randint(5, 15))
        score = Decimal(rng.randint(45, 85)).scaleb(-1)
