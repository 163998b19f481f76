"""Vietnamese display helpers: dates, decimals, percentages (used by D13 scores, D12 and D25b rates)."""

from datetime import UTC, date, datetime
from decimal import Decimal, localcontext

import pytest

from shared.domain.errors import DateError, NumberFormatError
from shared.domain.formatting import (
    NOT_APPLICABLE,
    format_date,
    format_decimal,
    format_moment,
    format_percent,
    parse_date,
)


@pytest.mark.parametrize(
    ("day", "shown"),
    [
        (date(2024, 3, 5), "05/03/2024"),
        (date(2020, 2, 29), "29/02/2020"),
        (date(2025, 12, 31), "31/12/2025"),
        (date(1, 1, 1), "01/01/0001"),
    ],
)
def test_format_date_dd_mm_yyyy(day: date, shown: str) -> None:
    assert format_date(day) == shown


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("05/03/2024", date(2024, 3, 5)),
        ("5/3/2024", date(2024, 3, 5)),
        (" 31/12/2025 ", date(2025, 12, 31)),
        ("29/02/2024", date(2024, 2, 29)),
        ("01/01/2000", date(2000, 1, 1)),
    ],
)
def test_parse_date_day_first(written: str, expected: date) -> None:
    assert parse_date(written) == expected


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("", "date.empty"),
        ("  ", "date.empty"),
        ("2024-03-05", "date.malformed"),
        ("05-03-2024", "date.malformed"),
        ("05.03.2024", "date.malformed"),
        ("05/03/24", "date.malformed"),
        ("05/03/2024 10:00", "date.malformed"),
        ("005/03/2024", "date.malformed"),
        ("hôm nay", "date.malformed"),
        ("٠٥/٠٣/٢٠٢٤", "date.malformed"),
        ("31/02/2024", "date.invalid"),
        ("29/02/2023", "date.invalid"),
        ("00/01/2024", "date.invalid"),
        ("15/13/2024", "date.invalid"),
        ("01/01/0000", "date.invalid"),
    ],
)
def test_parse_date_refuses_with_a_message(written: str, code: str) -> None:
    with pytest.raises(DateError) as caught:
        parse_date(written)
    assert caught.value.code == code
    assert caught.value.message_vi
    assert caught.value.message_en


def test_parse_date_names_the_missing_day() -> None:
    with pytest.raises(DateError, match="31/02/2024"):
        parse_date("31/2/2024")


@pytest.mark.parametrize("day", [date(2024, 3, 5), date(2020, 2, 29), date(1999, 12, 31)])
def test_date_round_trip(day: date) -> None:
    assert parse_date(format_date(day)) == day


@pytest.mark.parametrize(
    ("value", "places", "trim", "shown"),
    [
        (Decimal("1234.5"), None, False, "1.234,5"),
        (Decimal("1234567.891"), None, False, "1.234.567,891"),
        (Decimal("1234.50"), None, False, "1.234,50"),
        (Decimal("1234.50"), None, True, "1.234,5"),
        (Decimal("999"), None, False, "999"),
        (Decimal("1000"), None, False, "1.000"),
        (Decimal("1E+3"), None, False, "1.000"),
        (Decimal("-1234.5"), None, False, "-1.234,5"),
        (Decimal("0.5"), None, False, "0,5"),
        (119000, None, False, "119.000"),
        (0, None, False, "0"),
        (Decimal("2.45"), 1, False, "2,5"),
        (Decimal("2.5"), 0, False, "3"),
        (Decimal("3.5"), 0, False, "4"),
        (Decimal("-2.5"), 0, False, "-3"),
        (Decimal("1234"), 2, False, "1.234,00"),
        (Decimal("1234"), 2, True, "1.234"),
        (Decimal("10.0"), None, True, "10"),
        (Decimal("100"), None, True, "100"),
        (Decimal("-0.04"), 1, False, "0,0"),
        (Decimal("-0"), None, False, "0"),
        (10**30, 2, False, "1" + ".000" * 10 + ",00"),
    ],
)
def test_format_decimal_comma_and_dot_thousands(
    value: Decimal | int, places: int | None, trim: bool, shown: str
) -> None:
    assert format_decimal(value, places, trim=trim) == shown


def test_format_decimal_rounds_half_up_whatever_the_callers_context() -> None:
    with localcontext() as context:
        context.prec = 3
        assert format_decimal(Decimal("123456.785"), 2) == "123.456,79"


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_format_decimal_refuses_non_finite(value: Decimal) -> None:
    with pytest.raises(NumberFormatError):
        format_decimal(value)


def test_format_decimal_refuses_negative_places() -> None:
    with pytest.raises(NumberFormatError):
        format_decimal(Decimal(1), -1)


@pytest.mark.parametrize("value", [1.5, True, "1,5", None])
def test_format_decimal_refuses_floats_and_text(value: object) -> None:
    with pytest.raises(TypeError):
        format_decimal(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("part", "whole", "places", "shown"),
    [
        (7, 8, 1, "87,5%"),
        (1, 1, 1, "100%"),
        (0, 5, 1, "0%"),
        (2, 3, 1, "66,7%"),
        (1, 3, 1, "33,3%"),
        (1, 3, 2, "33,33%"),
        (1, 8, 1, "12,5%"),
        (1, 8, 0, "13%"),
        (1, 16, 1, "6,3%"),
        (119000, 100, 0, "119.000%"),
        (Decimal("8.75"), Decimal(10), 1, "87,5%"),
        (5, 0, 1, NOT_APPLICABLE),
        (0, 0, 1, NOT_APPLICABLE),
    ],
)
def test_format_percent(part: Decimal | int, whole: Decimal | int, places: int, shown: str) -> None:
    assert format_percent(part, whole, places) == shown


def test_format_percent_refuses_floats() -> None:
    with pytest.raises(TypeError):
        format_percent(0.875, 1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        (datetime(2026, 11, 27, 14, 5, tzinfo=UTC), "21:05 27/11/2026"),
        (datetime(2026, 12, 31, 20, 0, tzinfo=UTC), "03:00 01/01/2027"),
        (datetime(2026, 12, 31, 20, 0), "03:00 01/01/2027"),  # naive values are stored UTC (SQLite)
    ],
)
def test_moments_show_in_vietnam_time(moment: datetime, shown: str) -> None:
    assert format_moment(moment) == shown
