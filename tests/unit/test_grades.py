"""D13: essay scores, bands, rewrites and a member's latest result."""

from decimal import Decimal

import pytest

from shared.domain.errors import DomainError, ScoreError
from shared.domain.grades import (
    DEFAULT_SCALE,
    Attempt,
    Band,
    EssayResult,
    GradingScale,
    band_of,
    format_score,
    latest_result,
    needs_rewrite,
    parse_score,
)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("8,5", Decimal("8.5")),
        ("8.5", Decimal("8.5")),
        (" 9 ", Decimal(9)),
        ("\t7,25\n", Decimal("7.25")),
        ("8,55", Decimal("8.55")),
        ("8,50", Decimal("8.5")),
        ("0", Decimal(0)),
        ("0,0", Decimal(0)),
        ("10", Decimal(10)),
        ("10,00", Decimal(10)),
        ("+7", Decimal(7)),
        ("05", Decimal(5)),
        (Decimal("4.9"), Decimal("4.9")),
        (Decimal("9.000"), Decimal(9)),
        (7, Decimal(7)),
        (0, Decimal(0)),
        (10, Decimal(10)),
    ],
)
def test_d13_parse_score_accepts(written: str | Decimal | int, expected: Decimal) -> None:
    score = parse_score(written)
    assert isinstance(score, Decimal)
    assert score == expected


@pytest.mark.parametrize("written", ["-0", "-0,0", Decimal("-0"), Decimal("-0.00")])
def test_d13_negative_zero_reads_as_zero(written: str | Decimal) -> None:
    score = parse_score(written)
    assert score == 0
    assert not score.is_signed()
    assert format_score(score) == "0"


@pytest.mark.parametrize(
    ("written", "code", "mentions"),
    [
        ("", "score.empty", "Chưa nhập điểm"),
        ("   ", "score.empty", "Chưa nhập điểm"),
        ("abc", "score.malformed", "abc"),
        ("8,", "score.malformed", "8,"),
        (",5", "score.malformed", ",5"),
        ("8,5,1", "score.malformed", "8,5,1"),
        ("1.234,5", "score.malformed", "1.234,5"),
        ("8 ,5", "score.malformed", "8 ,5"),
        ("tám", "score.malformed", "tám"),
        ("٨", "score.malformed", "٨"),
        ("1e1", "score.malformed", "1e1"),
        ("NaN", "score.not_a_number", "hữu hạn"),
        ("inf", "score.not_a_number", "hữu hạn"),
        ("-Infinity", "score.not_a_number", "hữu hạn"),
        ("8,555", "score.too_many_places", "8,555"),
        ("8,500", "score.too_many_places", "8,500"),
        ("10.01", "score.out_of_range", "10,01"),
        ("11", "score.out_of_range", "từ 0 đến 10"),
        ("-0.1", "score.out_of_range", "-0,1"),
        ("-1", "score.out_of_range", "-1"),
        (Decimal("NaN"), "score.not_a_number", "hữu hạn"),
        (Decimal("sNaN"), "score.not_a_number", "hữu hạn"),
        (Decimal("Infinity"), "score.not_a_number", "hữu hạn"),
        (Decimal("8.555"), "score.too_many_places", "8,555"),
        (Decimal("1E+30"), "score.out_of_range", "từ 0 đến 10"),
        (Decimal("10.001"), "score.out_of_range", "10,001"),
        (11, "score.out_of_range", "11"),
        (-1, "score.out_of_range", "-1"),
    ],
)
def test_d13_parse_score_refuses_with_a_message(written: str | Decimal | int, code: str, mentions: str) -> None:
    with pytest.raises(ScoreError) as caught:
        parse_score(written)
    error = caught.value
    assert isinstance(error, DomainError)
    assert isinstance(error, ValueError)
    assert error.code == code
    assert mentions in error.message_vi
    assert error.message_en
    assert error.message_vi in str(error)
    assert error.message_en in str(error)


@pytest.mark.parametrize("written", [8.5, True, None, [8]])
def test_d13_parse_score_refuses_floats_and_other_types(written: object) -> None:
    with pytest.raises(TypeError):
        parse_score(written)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("score", "band"),
    [
        ("0", Band.WEAK),
        ("0.01", Band.WEAK),
        ("4.9", Band.WEAK),
        ("4.99", Band.WEAK),
        ("5.0", Band.AVERAGE),
        ("5", Band.AVERAGE),
        ("6.9", Band.AVERAGE),
        ("6.99", Band.AVERAGE),
        ("7.0", Band.FAIR),
        ("7.00", Band.FAIR),
        ("8.9", Band.FAIR),
        ("8.99", Band.FAIR),
        ("9.0", Band.GOOD),
        ("9.5", Band.GOOD),
        ("10.0", Band.GOOD),
        ("10", Band.GOOD),
    ],
)
def test_d13_band_boundaries(score: str, band: Band) -> None:
    assert band_of(Decimal(score)) is band


def test_d13_band_boundaries_do_not_depend_on_binary_floats() -> None:
    # 0.1 * 3 is 0.30000000000000004 as a float; summed as Decimals it is exactly 0.3, and 6.7 + 0.3 hits 7.0.
    score = Decimal("6.7") + sum([Decimal("0.1")] * 3, Decimal(0))
    assert band_of(score) is Band.FAIR


@pytest.mark.parametrize("score", [Decimal("-0.1"), Decimal("10.01"), Decimal("NaN"), Decimal("8.123")])
def test_d13_band_of_refuses_invalid_scores(score: Decimal) -> None:
    with pytest.raises(ScoreError):
        band_of(score)


def test_d13_band_of_refuses_floats() -> None:
    with pytest.raises(TypeError):
        band_of(9.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("band", "label", "rank"),
    [(Band.GOOD, "Tốt", 3), (Band.FAIR, "Khá", 2), (Band.AVERAGE, "Trung bình", 1), (Band.WEAK, "Yếu", 0)],
)
def test_d13_band_labels_are_vietnamese_and_ranked(band: Band, label: str, rank: int) -> None:
    assert band.value == label
    assert str(band) == label
    assert band.rank == rank


@pytest.mark.parametrize(
    ("score", "expected"),
    [("0", True), ("4.9", True), ("4.99", True), ("5.0", False), ("6.9", False), ("9.0", False), ("10", False)],
)
def test_d13_a_weak_essay_needs_rewrite(score: str, expected: bool) -> None:
    assert needs_rewrite(Decimal(score)) is expected


def test_d13_default_scale_is_the_source_documents() -> None:
    assert (DEFAULT_SCALE.max_score, DEFAULT_SCALE.good_min, DEFAULT_SCALE.fair_min, DEFAULT_SCALE.average_min) == (
        Decimal(10),
        Decimal(9),
        Decimal(7),
        Decimal(5),
    )
    assert DEFAULT_SCALE.rewrite_until is Band.AVERAGE
    assert [DEFAULT_SCALE.min_score(band) for band in Band] == [Decimal(9), Decimal(7), Decimal(5), Decimal(0)]


CUSTOM_SCALE = GradingScale(
    max_score=Decimal(100), good_min=Decimal(85), fair_min=Decimal(70), average_min=Decimal(50), rewrite_until=Band.FAIR
)


@pytest.mark.parametrize(
    ("score", "band", "rewrite"),
    [
        ("49.99", Band.WEAK, True),
        ("50", Band.AVERAGE, True),
        ("69.99", Band.AVERAGE, True),
        ("70", Band.FAIR, False),
        ("85", Band.GOOD, False),
        ("100", Band.GOOD, False),
    ],
)
def test_d13_a_round_may_set_its_own_scale(score: str, band: Band, rewrite: bool) -> None:
    value = parse_score(score, CUSTOM_SCALE)
    assert band_of(value, CUSTOM_SCALE) is band
    assert needs_rewrite(value, CUSTOM_SCALE) is rewrite


def test_d13_custom_scale_moves_the_range() -> None:
    assert parse_score("55", CUSTOM_SCALE) == 55
    with pytest.raises(ScoreError, match="từ 0 đến 10"):
        parse_score("55")
    with pytest.raises(ScoreError, match="từ 0 đến 100"):
        parse_score("100,5", CUSTOM_SCALE)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"good_min": Decimal(7)}, "scale.order"),
        ({"fair_min": Decimal(9)}, "scale.order"),
        ({"fair_min": Decimal(4)}, "scale.order"),
        ({"average_min": Decimal(0)}, "scale.order"),
        ({"average_min": Decimal(-1)}, "scale.order"),
        ({"good_min": Decimal("10.5")}, "scale.order"),
        ({"max_score": Decimal(8)}, "scale.order"),
        ({"max_score": Decimal("NaN")}, "scale.not_decimal"),
        ({"good_min": Decimal("9.001")}, "scale.not_decimal"),
        ({"fair_min": 7.0}, "scale.not_decimal"),
        ({"average_min": 5}, "scale.not_decimal"),
        ({"rewrite_until": Band.WEAK}, "scale.rewrite_until"),
        ({"rewrite_until": "Trung bình"}, "scale.rewrite_until"),
    ],
)
def test_d13_scale_is_validated_on_construction(changes: dict[str, object], code: str) -> None:
    with pytest.raises(ScoreError) as caught:
        GradingScale(**changes)  # type: ignore[arg-type]
    assert caught.value.code == code


def test_d13_scale_may_put_good_at_the_maximum() -> None:
    scale = GradingScale(good_min=Decimal(10))
    assert band_of(Decimal("9.99"), scale) is Band.FAIR
    assert band_of(Decimal(10), scale) is Band.GOOD


@pytest.mark.parametrize(
    ("attempts", "expected"),
    [
        ([], None),
        ([Attempt(1, Decimal("8.5"))], EssayResult(1, Decimal("8.5"), Band.FAIR, rewrite_open=False)),
        ([Attempt(1, Decimal("4.5"))], EssayResult(1, Decimal("4.5"), Band.WEAK, rewrite_open=True)),
        (
            [Attempt(1, Decimal("4.5")), Attempt(2, Decimal("5.0"))],
            EssayResult(2, Decimal("5.0"), Band.AVERAGE, rewrite_open=False),
        ),
        (
            [Attempt(2, Decimal("6")), Attempt(1, Decimal("3"))],
            EssayResult(2, Decimal(6), Band.AVERAGE, rewrite_open=False),
        ),
        (
            [Attempt(1, Decimal("3")), Attempt(2, Decimal("4.9")), Attempt(3, Decimal("4.99"))],
            EssayResult(3, Decimal("4.99"), Band.WEAK, rewrite_open=True),
        ),
        # The latest attempt decides even when an earlier one scored higher.
        (
            [Attempt(1, Decimal("9.5")), Attempt(2, Decimal("7"))],
            EssayResult(2, Decimal(7), Band.FAIR, rewrite_open=False),
        ),
        # Attempt numbers need not be contiguous (a withdrawn attempt leaves a gap).
        ([Attempt(1, Decimal("2")), Attempt(4, Decimal("9"))], EssayResult(4, Decimal(9), Band.GOOD, False)),
    ],
)
def test_d13_latest_result(attempts: list[Attempt], expected: EssayResult | None) -> None:
    assert latest_result(attempts) == expected
    assert latest_result(iter(attempts)) == expected


def test_d13_latest_result_follows_the_rounds_rewrite_setting() -> None:
    result = latest_result([Attempt(1, Decimal(60))], CUSTOM_SCALE)
    assert result == EssayResult(1, Decimal(60), Band.AVERAGE, rewrite_open=True)


@pytest.mark.parametrize(
    "attempts",
    [
        [Attempt(1, Decimal(5)), Attempt(1, Decimal(6))],
        [Attempt(0, Decimal(5))],
        [Attempt(-1, Decimal(5))],
    ],
)
def test_d13_latest_result_refuses_bad_attempt_numbers(attempts: list[Attempt]) -> None:
    with pytest.raises(ScoreError) as caught:
        latest_result(attempts)
    assert caught.value.code == "attempt.number"


def test_d13_latest_result_refuses_an_out_of_range_score() -> None:
    with pytest.raises(ScoreError):
        latest_result([Attempt(1, Decimal("10.5"))])


@pytest.mark.parametrize(
    ("score", "shown"),
    [
        (Decimal("8.5"), "8,5"),
        (Decimal("8.50"), "8,5"),
        (Decimal("8.55"), "8,55"),
        (Decimal("9.0"), "9"),
        (Decimal(10), "10"),
        (Decimal("10.00"), "10"),
        (Decimal(0), "0"),
        (Decimal("0.5"), "0,5"),
        (Decimal("4.90"), "4,9"),
    ],
)
def test_d13_format_score_the_vietnamese_way(score: Decimal, shown: str) -> None:
    assert format_score(score) == shown


@pytest.mark.parametrize("written", ["8,5", "8.25", " 10 ", "0", "4,9", "9,05"])
def test_d13_format_then_parse_round_trips(written: str) -> None:
    score = parse_score(written)
    assert parse_score(format_score(score)) == score
