"""One figure, one function (issue 11): the essays summary and the consolidation give the same essay figures at
every level, a Party cell included, whose grades are owned by the base organisation above it (D12, D13, D20)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from shared.domain.formatting import VIETNAM_TIME
from tests.domain_harness import Api, Maker

V = "/api/v1"


@pytest.fixture
async def graded(api: Api) -> dict[str, Any]:
    """A cell of 7 (5 obliged, 2 encouraged) graded by its base; 2 at the base itself; 1 in another district."""
    mk = Maker(api)
    doc = await mk.doc("TU", number="15-NQ/TU", signed_on="2021-03-01")
    cell = [await mk.member("H1B1C1") for _ in range(5)]
    cell += [await mk.member("H1B1C1", birth_year=1950, obligation="over_60") for _ in range(2)]
    base = [await mk.member("H1B1") for _ in range(2)]
    other = await mk.member("H2B1")
    # The cell: 4 of 5 obliged wrote (one Yếu still open, one Yếu rewritten to Khá), 1 of 2 encouraged wrote.
    for member, score in zip(cell, ("8,5", "4", "9", "3", None, "7", None), strict=True):
        if score is not None:
            await mk.essay("H1B1", member, doc, score)
    await mk.essay("H1B1", cell[3], doc, "7,5")  # D13: the rewrite, the latest attempt decides
    await mk.essay("H1B1", base[0], doc, "6")
    await mk.essay("H2B1", other, doc, "9,5")
    return doc


def _essay_figures_of_summary(s: dict[str, Any]) -> dict[str, Any]:
    bands = {b: s["obliged"]["bands"][b] + s["encouraged"]["bands"][b] for b in s["obliged"]["bands"]}
    return {
        "obliged": (s["obliged"]["members"], s["obliged"]["wrote"], s["obliged"]["rewrites_open"]),
        "encouraged": (s["encouraged"]["members"], s["encouraged"]["wrote"], s["encouraged"]["rewrites_open"]),
        "shortfall": s["shortfall"],
        "bands": bands,
    }


def _essay_figures_of_consolidation(c: dict[str, Any]) -> dict[str, Any]:
    e = c["figures"]["essays"]
    return {
        "obliged": (e["obliged"]["members"], e["obliged"]["wrote"], e["obliged"]["rewrites_open"]),
        "encouraged": (e["encouraged"]["members"], e["encouraged"]["wrote"], e["encouraged"]["rewrites_open"]),
        "shortfall": e["shortfall"],
        "bands": e["bands"],
    }


# (members, wrote, rewrites open) of the obliged, of the encouraged, and the shortfall, per level.
EXPECTED = {
    "H1B1C1": ((5, 4, 1), (2, 1, 0), 1),
    "H1B1": ((7, 5, 1), (2, 1, 0), 2),
    "H1": ((7, 5, 1), (2, 1, 0), 2),
    "TU": ((8, 6, 1), (2, 1, 0), 2),
}


@pytest.mark.parametrize("level", list(EXPECTED))
async def test_d12_d13_d20_summary_and_consolidation_agree_at_every_level(
    api: Api, graded: dict[str, Any], level: str
) -> None:
    today = datetime.now(VIETNAM_TIME).date().isoformat()
    unit = str(api.id(level))
    summary = await api.ok("GET", f"{V}/essays/summary", params={"document": graded["id"], "unit": unit})
    consolidation = await api.ok(
        "GET",
        f"{V}/consolidations",
        params={"document": graded["id"], "kind": "preliminary", "unit": unit, "cut_off": today},
    )
    figures = _essay_figures_of_summary(summary)
    assert figures == _essay_figures_of_consolidation(consolidation)
    assert (figures["obliged"], figures["encouraged"], figures["shortfall"]) == EXPECTED[level]
    if level == "H1B1C1":
        assert figures["bands"] == {"Tốt": 1, "Khá": 3, "Trung bình": 0, "Yếu": 1}
