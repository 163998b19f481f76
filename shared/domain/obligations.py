"""Who must write a personal essay (D12), and participation counted for the obliged and the encouraged apart.

Assumptions shown to users (`RURAL_CELL_ASSUMPTION_VI`, `OVER_60_ASSUMPTION_VI`): "rural cell" qualifies only the
last group; "over 60" is judged by birth year against the year of the study round.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from shared.domain.consolidation import GroupEssays
from shared.domain.errors import DomainError
from shared.domain.grades import Band, EssayResult

OBLIGED = "obliged"
OBLIGATIONS: tuple[str, ...] = (OBLIGED, "exempt", "health", "over_60", "retired", "rural_no_post")
"""D12: who must write an essay ("obliged") and why the others are only encouraged."""

OBLIGATION_LABELS_VI: Mapping[str, str] = {
    "obliged": "Bắt buộc viết",
    "exempt": "Miễn sinh hoạt đảng",
    "health": "Không đủ sức khỏe công tác",
    "over_60": "Trên 60 tuổi",
    "retired": "Cán bộ nghỉ hưu",
    "rural_no_post": "Không giữ chức vụ, thuộc chi bộ nông thôn",
}
OBLIGATION_LABELS_EN: Mapping[str, str] = {
    "obliged": "obliged to write",
    "exempt": "exempted from Party activities",
    "health": "not fit for work on health grounds",
    "over_60": "over 60",
    "retired": "retired cadre",
    "rural_no_post": "no leadership post, rural cell",
}

RURAL_CELL_ASSUMPTION_VI = "“Chi bộ nông thôn” chỉ áp dụng cho nhóm đảng viên không giữ chức vụ lãnh đạo, quản lý."
OVER_60_ASSUMPTION_VI = "Tuổi trên 60 được tính theo năm sinh so với năm của đợt học tập."


K = TypeVar("K")


class ObligationError(DomainError):
    """A member's category that breaks D12."""


def is_obliged(obligation: str) -> bool:
    return obligation == OBLIGED


def check_obligation(obligation: str, *, birth_year: int, year: int, post: str, rural_cell: bool) -> None:
    """Refuse a category the member's own data contradicts (D12); `year` is the study round's year."""
    if obligation not in OBLIGATIONS:
        raise ObligationError(
            "obligation.unknown",
            f"Diện đối tượng «{obligation}» không hợp lệ; chọn một trong: {', '.join(OBLIGATIONS)}.",
            f"Unknown category «{obligation}»; choose one of: {', '.join(OBLIGATIONS)}.",
        )
    if not 1900 <= birth_year <= year:
        raise ObligationError(
            "member.birth_year",
            f"Năm sinh {birth_year} không hợp lệ.",
            f"Birth year {birth_year} is not valid.",
        )
    if obligation == "over_60" and year - birth_year <= 60:
        raise ObligationError(
            "obligation.over_60",
            f"Đảng viên sinh năm {birth_year} chưa trên 60 tuổi vào năm {year}.",
            f"A member born in {birth_year} is not over 60 in {year}.",
        )
    if obligation == "rural_no_post" and (post.strip() or not rural_cell):
        raise ObligationError(
            "obligation.rural_no_post",
            "Diện này chỉ dành cho đảng viên không giữ chức vụ lãnh đạo, quản lý và thuộc chi bộ nông thôn.",
            "This category is only for members without a leadership post who belong to a rural cell.",
        )


@dataclass(frozen=True, slots=True)
class Participation:
    """D12: the obliged and the encouraged counted apart; only an obliged member who wrote nothing is a shortfall."""

    obliged: GroupEssays
    encouraged: GroupEssays

    @property
    def shortfall(self) -> int:
        return self.obliged.members - self.obliged.wrote


def participation(members: Mapping[K, str], results: Mapping[K, EssayResult]) -> Participation:
    """Count a roster (member → category) against each member's latest result (member → result)."""
    groups: dict[bool, list[K]] = {True: [], False: []}
    for member, obligation in members.items():
        groups[is_obliged(obligation)].append(member)
    return Participation(_count(groups[True], results), _count(groups[False], results))


def _count(members: Iterable[K], results: Mapping[K, EssayResult]) -> GroupEssays:
    bands = {str(b): 0 for b in Band}
    n = wrote = rewrites = rewritten = 0
    for member in members:
        n += 1
        result = results.get(member)
        if result is None:
            continue
        wrote += 1
        bands[str(result.band)] += 1
        rewrites += result.rewrite_open
        rewritten += result.attempt > 1
    return GroupEssays(members=n, wrote=wrote, bands=bands, rewrites_open=rewrites, rewritten=rewritten)
