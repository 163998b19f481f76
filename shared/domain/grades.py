"""Grading of personal essays (D13): Decimal scores, the four bands, rewrites and a member's latest result."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from shared.domain.errors import ScoreError
from shared.domain.formatting import format_decimal

MAX_SCORE_PLACES = 2
"""Most decimal places a score may carry; `8,55` is accepted, `8,555` is refused."""

_HUNDREDTH = Decimal("0.01")
# ASCII digits only: `\d` would also accept digits of other scripts that no grader types.
_SCORE_TEXT = re.compile(r"([+-]?)([0-9]+)(?:[.,]([0-9]+))?")


class Band(enum.StrEnum):
    """The four grades of an essay (D13); the value is the label users read."""

    GOOD = "Tốt"
    FAIR = "Khá"
    AVERAGE = "Trung bình"
    WEAK = "Yếu"

    @property
    def rank(self) -> int:
        """0 for Yếu up to 3 for Tốt; compare bands by rank, never by their labels."""
        return _BAND_RANKS[self]

    @property
    def english(self) -> str:
        return _BAND_ENGLISH[self]


_BAND_RANKS: Mapping[Band, int] = {Band.WEAK: 0, Band.AVERAGE: 1, Band.FAIR: 2, Band.GOOD: 3}
_BAND_ENGLISH: Mapping[Band, str] = {Band.GOOD: "good", Band.FAIR: "fair", Band.AVERAGE: "average", Band.WEAK: "weak"}


@dataclass(frozen=True, slots=True)
class GradingScale:
    """The grading settings of a study round (D13); the defaults are this province's, from the source document.

    A score s falls in Tốt when `good_min ≤ s ≤ max_score`, Khá when `fair_min ≤ s < good_min`, Trung bình when
    `average_min ≤ s < fair_min`, Yếu below `average_min`. An essay is rewritten until it reaches `rewrite_until`.
    """

    max_score: Decimal = Decimal(10)
    good_min: Decimal = Decimal("9.0")
    fair_min: Decimal = Decimal("7.0")
    average_min: Decimal = Decimal("5.0")
    rewrite_until: Band = Band.AVERAGE

    def __post_init__(self) -> None:
        for name in ("max_score", "good_min", "fair_min", "average_min"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value != value.quantize(_HUNDREDTH):
                raise ScoreError(
                    "scale.not_decimal",
                    f"Thang điểm: «{name}» phải là số thập phân hữu hạn, tối đa 2 chữ số sau dấu phẩy.",
                    f"Grading scale: {name} must be a finite Decimal with at most 2 places.",
                )
        if not Decimal(0) < self.average_min < self.fair_min < self.good_min <= self.max_score:
            raise ScoreError(
                "scale.order",
                "Thang điểm không hợp lệ: phải có 0 < mức Trung bình < mức Khá < mức Tốt ≤ điểm tối đa.",
                "Invalid grading scale: 0 < average < fair < good ≤ max score must hold.",
            )
        if not isinstance(self.rewrite_until, Band) or self.rewrite_until is Band.WEAK:
            raise ScoreError(
                "scale.rewrite_until",
                "Mức phải đạt sau khi viết lại phải là Trung bình, Khá hoặc Tốt.",
                "The band a rewrite must reach must be average, fair or good.",
            )

    def min_score(self, band: Band) -> Decimal:
        """The lowest score of `band` (0 for Yếu)."""
        return {
            Band.GOOD: self.good_min,
            Band.FAIR: self.fair_min,
            Band.AVERAGE: self.average_min,
            Band.WEAK: Decimal(0),
        }[band]


DEFAULT_SCALE = GradingScale()


@dataclass(frozen=True, slots=True)
class Attempt:
    """One graded attempt at an essay; the first essay is attempt 1, each rewrite the next number."""

    number: int
    score: Decimal


@dataclass(frozen=True, slots=True)
class EssayResult:
    """A member's result for one study round: the latest attempt decides (D13)."""

    attempt: int
    score: Decimal
    band: Band
    rewrite_open: bool
    """True when the latest attempt is below the scale's `rewrite_until` band, so a rewrite is owed."""


def parse_score(value: str | Decimal | int, scale: GradingScale = DEFAULT_SCALE) -> Decimal:
    """A score from what a grader typed (`"8,5"`, `"8.5"`, `" 9 "`) or from a Decimal or int (D13).

    Raises `ScoreError` saying what is wrong: empty, malformed, not a number, out of range, too many places.
    """
    if isinstance(value, str):
        score = _score_from_text(value)
    elif isinstance(value, Decimal):
        score = value
    elif isinstance(value, int) and not isinstance(value, bool):
        score = Decimal(value)
    else:
        # Floats are a programming error: the decimal the grader typed is already lost.
        raise TypeError(f"parse_score takes str, Decimal or int, not {type(value).__name__}")
    _check_score(score, scale)
    return abs(score) if score.is_zero() else score


def band_of(score: Decimal, scale: GradingScale = DEFAULT_SCALE) -> Band:
    """The band of a valid score, comparing Decimals exactly (D13)."""
    _require_decimal(score)
    _check_score(score, scale)
    if score >= scale.good_min:
        return Band.GOOD
    if score >= scale.fair_min:
        return Band.FAIR
    if score >= scale.average_min:
        return Band.AVERAGE
    return Band.WEAK


def needs_rewrite(score: Decimal, scale: GradingScale = DEFAULT_SCALE) -> bool:
    """True when an essay with this score must be rewritten (D13: a Yếu essay, with the default scale)."""
    return band_of(score, scale).rank < scale.rewrite_until.rank


def latest_result(attempts: Iterable[Attempt], scale: GradingScale = DEFAULT_SCALE) -> EssayResult | None:
    """The result given by the highest-numbered attempt, or None when the member has no graded attempt (D13).

    Attempt numbers must be positive and distinct; the order of `attempts` does not matter.
    """
    latest: Attempt | None = None
    seen: set[int] = set()
    for attempt in attempts:
        if attempt.number < 1 or attempt.number in seen:
            raise ScoreError(
                "attempt.number",
                f"Lần viết số {attempt.number} không hợp lệ hoặc bị trùng.",
                f"Attempt number {attempt.number} is not positive or is repeated.",
            )
        seen.add(attempt.number)
        if latest is None or attempt.number > latest.number:
            latest = attempt
    if latest is None:
        return None
    band = band_of(latest.score, scale)
    return EssayResult(
        attempt=latest.number,
        score=latest.score,
        band=band,
        rewrite_open=band.rank < scale.rewrite_until.rank,
    )


def format_score(score: Decimal) -> str:
    """A score the Vietnamese way, without trailing zeros: `Decimal('8.5')` → `8,5`, `Decimal('9.0')` → `9`."""
    _require_decimal(score)
    return format_decimal(score, trim=True)


def _score_from_text(text: str) -> Decimal:
    stripped = text.strip()
    if not stripped:
        raise ScoreError("score.empty", "Chưa nhập điểm.", "The score is empty.")
    match = _SCORE_TEXT.fullmatch(stripped)
    if match is None:
        if _is_non_finite(stripped):
            raise _not_a_number()
        raise ScoreError(
            "score.malformed",
            f"Điểm «{stripped}» không phải là một số; hãy nhập dạng 8 hoặc 8,5.",
            f"The score «{stripped}» is not a number; write it as 8 or 8,5.",
        )
    sign, whole, fraction = match.groups()
    if fraction is not None and len(fraction) > MAX_SCORE_PLACES:
        # Judged on what was written: `8,500` may be a thousands-separated 8500, so it is not silently read as 8,5.
        raise _too_many_places(stripped)
    return Decimal(f"{sign}{whole}.{fraction}" if fraction is not None else f"{sign}{whole}")


def _check_score(score: Decimal, scale: GradingScale) -> None:
    if not score.is_finite():
        raise _not_a_number()
    if score < 0 or score > scale.max_score:
        shown = format_decimal(score)
        top = format_score(scale.max_score)
        raise ScoreError(
            "score.out_of_range",
            f"Điểm {shown} nằm ngoài thang điểm: điểm phải từ 0 đến {top}.",
            f"The score {shown} is out of range: it must be between 0 and {top}.",
        )
    # Range is checked first, so this quantize works on a small number and cannot overflow the context.
    if score != score.quantize(_HUNDREDTH):
        raise _too_many_places(format_decimal(score))


def _require_decimal(score: object) -> None:
    if not isinstance(score, Decimal):
        raise TypeError(f"a score must be a Decimal, not {type(score).__name__}; use parse_score first")


def _is_non_finite(text: str) -> bool:
    try:
        return not Decimal(text).is_finite()
    except InvalidOperation:
        return False


def _not_a_number() -> ScoreError:
    return ScoreError("score.not_a_number", "Điểm không phải là một số hữu hạn.", "The score is not a finite number.")


def _too_many_places(shown: str) -> ScoreError:
    return ScoreError(
        "score.too_many_places",
        f"Điểm «{shown}» có quá {MAX_SCORE_PLACES} chữ số sau dấu phẩy.",
        f"The score «{shown}» has more than {MAX_SCORE_PLACES} decimal places.",
    )
