"""Vietnamese display of dates and numbers: dd/mm/yyyy, decimal comma, dot as thousands separator."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import ROUND_HALF_UP, Context, Decimal

from shared.domain.errors import DateError, NumberFormatError

NOT_APPLICABLE = "—"
"""Shown instead of a percentage whose whole is zero (no one was obliged, nothing was expected)."""

_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})", re.ASCII)
# Swapping the separators of Python's own `,` grouping output gives the Vietnamese form in one pass.
_TO_VIETNAMESE = str.maketrans({",": ".", ".": ","})
# Fixed here rather than taken from the thread's context, so a caller's context cannot change a displayed rate.
_RATIO_CONTEXT = Context(prec=28, rounding=ROUND_HALF_UP)


def format_date(day: date) -> str:
    """`date(2024, 3, 5)` → `05/03/2024`."""
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")
"""Vietnam keeps UTC+7 all year (no daylight saving), so a fixed offset needs no time zone database."""


def format_moment(moment: datetime, tz: tzinfo = VIETNAM_TIME) -> str:
    """An instant as the office reads it: `14:05 27/11/2026`, in Vietnam time; a naive value is taken as UTC."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    local = aware.astimezone(tz)
    return f"{local:%H:%M} {format_date(local.date())}"


def parse_date(text: str) -> date:
    """Parse a date written day first, `05/03/2024` or `5/3/2024`; refuse anything else with a message."""
    stripped = text.strip()
    if not stripped:
        raise DateError("date.empty", "Chưa nhập ngày.", "The date is empty.")
    match = _DATE.fullmatch(stripped)
    if match is None:
        raise DateError(
            "date.malformed",
            f"Ngày «{stripped}» không đúng dạng ngày/tháng/năm, ví dụ 05/03/2024.",
            f"The date «{stripped}» is not written as dd/mm/yyyy, e.g. 05/03/2024.",
        )
    day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise DateError(
            "date.invalid",
            f"Không có ngày {day:02d}/{month:02d}/{year:04d} trong lịch.",
            f"There is no such date as {day:02d}/{month:02d}/{year:04d}.",
        ) from None


def format_decimal(value: Decimal | int, places: int | None = None, *, trim: bool = False) -> str:
    """`Decimal('1234.5')` → `1.234,5`.

    `places=None` keeps the places the value was written with; an int rounds half up to that many places.
    `trim=True` drops trailing zeros of the fraction (`8,50` → `8,5`, `10,0` → `10`).
    """
    number = _exact(value)
    if not number.is_finite():
        raise NumberFormatError(
            "number.not_finite", "Giá trị không phải là một số hữu hạn.", "The value is not a finite number."
        )
    if places is not None:
        if places < 0:
            raise NumberFormatError(
                "number.places", "Số chữ số thập phân không được âm.", "Places must not be negative."
            )
        # A context wide enough for the whole value, so rounding never raises on large numbers.
        context = Context(prec=max(number.adjusted(), 0) + places + 2, rounding=ROUND_HALF_UP)
        number = number.quantize(Decimal(1).scaleb(-places), context=context)
    if number.is_zero():
        number = abs(number)  # never show "-0"
    text = format(number, ",f").translate(_TO_VIETNAMESE)
    if trim and "," in text:
        text = text.rstrip("0").rstrip(",")
    return text


def format_percent(part: Decimal | int, whole: Decimal | int, places: int = 1) -> str:
    """Share of `part` in `whole` as a Vietnamese percentage: `(7, 8)` → `87,5%`, `(1, 1)` → `100%`.

    Rounded half up to `places`, trailing zeros dropped; a zero whole gives `NOT_APPLICABLE`.
    """
    whole_number = _exact(whole)
    if whole_number.is_zero():
        return NOT_APPLICABLE
    ratio = _RATIO_CONTEXT.divide(_exact(part) * 100, whole_number)
    return f"{format_decimal(ratio, places, trim=True)}%"


def _exact(value: Decimal | int) -> Decimal:
    # Floats are refused: a binary float has already lost the decimal the user wrote.
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"expected Decimal or int, not {type(value).__name__}")
    return Decimal(value)
