"""D12: who must write an essay, and participation counted for the obliged and the encouraged apart."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shared.domain.grades import Attempt, latest_result
from shared.domain.obligations import OBLIGATIONS, ObligationError, check_obligation, is_obliged, participation


@pytest.mark.parametrize(
    ("obligation", "birth_year", "post", "rural", "error"),
    [
        ("obliged", 1980, "Bí thư", False, None),
        ("exempt", 1980, "", False, None),
        ("health", 1980, "", False, None),
        ("over_60", 1963, "", False, None),
        ("over_60", 1964, "", False, "obligation.over_60"),  # 60 in 2024 is not over 60 (assumption: by birth year)
        ("retired", 1960, "", False, None),
        ("rural_no_post", 1980, "", True, None),
        ("rural_no_post", 1980, "Phó bí thư", True, "obligation.rural_no_post"),
        ("rural_no_post", 1980, "", False, "obligation.rural_no_post"),  # "rural cell" qualifies only this group
        ("other", 1980, "", False, "obligation.unknown"),
        ("obliged", 2030, "", False, "member.birth_year"),
    ],
)
def test_d12_categories(obligation: str, birth_year: int, post: str, rural: bool, error: str | None) -> None:
    if error is None:
        check_obligation(obligation, birth_year=birth_year, year=2024, post=post, rural_cell=rural)
    else:
        with pytest.raises(ObligationError) as caught:
            check_obligation(obligation, birth_year=birth_year, year=2024, post=post, rural_cell=rural)
        assert caught.value.code == error


def test_d12_only_obliged_members_must_write() -> None:
    assert [o for o in OBLIGATIONS if is_obliged(o)] == ["obliged"]


def test_d12_an_encouraged_member_who_writes_nothing_is_no_shortfall() -> None:
    roster = {"a": "obliged", "b": "obliged", "c": "retired", "d": "over_60"}
    results = {
        "a": latest_result([Attempt(1, Decimal("4.0")), Attempt(2, Decimal("6.5"))]),
        "c": latest_result([Attempt(1, Decimal("3"))]),
    }
    counted = participation(roster, {k: v for k, v in results.items() if v is not None})
    assert (counted.obliged.members, counted.obliged.wrote, counted.shortfall) == (2, 1, 1)
    assert (counted.encouraged.members, counted.encouraged.wrote, counted.encouraged.rewrites_open) == (2, 1, 1)
    assert counted.obliged.bands["Trung bình"] == 1
    assert counted.obliged.rewrites_open == 0, "the latest attempt decides (D13)"
