"""D5, D5a: Party document numbers in every written form, and the key of a document."""

import unicodedata
import uuid

import pytest

from shared.domain.docnumbers import (
    KNOWN_ISSUERS,
    KNOWN_TYPES,
    DocumentKey,
    DocumentNumber,
    IssuerCandidate,
    candidates_for,
    format_document_number,
    normalize_text,
    parse_document_number,
    resolve_issuer,
)
from shared.domain.errors import DocumentNumberError

ETH = "\u00d0"  # Ð, looks like Đ but is the Icelandic capital eth
D_STROKE = "\u0110"  # Đ


@pytest.mark.parametrize(
    ("written", "number", "doc_type", "issuer", "canonical"),
    [
        ("15-NQ/TU", 15, "NQ", "TU", "15-NQ/TU"),
        ("Số: 36-HD/VPTW", 36, "HD", "VPTW", "36-HD/VPTW"),
        ("31 - HD/BTCTW", 31, "HD", "BTCTW", "31-HD/BTCTW"),
        ("số 05-CT/TU", 5, "CT", "TU", "05-CT/TU"),
        ("12-KL/TW", 12, "KL", "TW", "12-KL/TW"),
        ("03-CTr/HU", 3, "CTr", "HU", "03-CTr/HU"),
        ("45-CTHĐ/ĐU", 45, "CTHĐ", "ĐU", "45-CTHĐ/ĐU"),
        ("  15 -  NQ  /  TU  ", 15, "NQ", "TU", "15-NQ/TU"),
        ("SỐ: 7-QĐ/TU", 7, "QĐ", "TU", "07-QĐ/TU"),
        ("Số:120-KH/HU", 120, "KH", "HU", "120-KH/HU"),
        ("số:  2-ĐA/TU", 2, "ĐA", "TU", "02-ĐA/TU"),
        ("1234-CV/VPTU", 1234, "CV", "VPTU", "1234-CV/VPTU"),
        ("9-BC/ĐUK", 9, "BC", "ĐUK", "09-BC/ĐUK"),
        ("10-TB/QU", 10, "TB", "QU", "10-TB/QU"),
        ("01-NQ/ĐĐ", 1, "NQ", "ĐĐ", "01-NQ/ĐĐ"),
        ("04-NQ/BCSĐ", 4, "NQ", "BCSĐ", "04-NQ/BCSĐ"),
        # Case-insensitive: canonical spelling comes back.
        ("15-nq/tu", 15, "NQ", "TU", "15-NQ/TU"),
        ("03-CTR/hu", 3, "CTr", "HU", "03-CTr/HU"),
        ("45-cthđ/đu", 45, "CTHĐ", "ĐU", "45-CTHĐ/ĐU"),
        # Look-alike Ð (U+00D0) and its lowercase are read as Đ.
        (f"45-CTH{ETH}/{ETH}U", 45, "CTHĐ", "ĐU", "45-CTHĐ/ĐU"),
        ("7-Q\u00f0/TU", 7, "QĐ", "TU", "07-QĐ/TU"),
        # Decomposed Unicode (NFD) of "Số" and of "Đ" forms.
        (unicodedata.normalize("NFD", "Số: 45-CTHĐ/ĐU"), 45, "CTHĐ", "ĐU", "45-CTHĐ/ĐU"),
        # Dashes, slashes and spaces pasted from word processors.
        ("15\u2013NQ/TU", 15, "NQ", "TU", "15-NQ/TU"),
        ("15 \u2014 NQ \u2215 TU", 15, "NQ", "TU", "15-NQ/TU"),
        ("15\u00a0-\u00a0NQ/TU", 15, "NQ", "TU", "15-NQ/TU"),
        ("15-NQ\uff0fTU", 15, "NQ", "TU", "15-NQ/TU"),
    ],
)
def test_d5a_parse_every_written_form(written: str, number: int, doc_type: str, issuer: str, canonical: str) -> None:
    parsed = parse_document_number(written)
    assert parsed == DocumentNumber(number, doc_type, issuer)
    assert parsed.format() == canonical
    assert format_document_number(parsed) == canonical
    assert str(parsed) == canonical
    assert parse_document_number(canonical) == parsed


@pytest.mark.parametrize("written", ["45-CTHĐ/ĐU", f"45-CTH{ETH}/{ETH}U", unicodedata.normalize("NFD", "45-CTHĐ/ĐU")])
def test_d5a_parsed_symbols_use_d_with_stroke(written: str) -> None:
    parsed = parse_document_number(written)
    assert ETH not in parsed.type + parsed.issuer
    assert parsed.issuer == f"{D_STROKE}U"
    assert parsed.issuer.encode() == "ĐU".encode()


@pytest.mark.parametrize(
    ("written", "normalized"),
    [
        (f"{ETH}U", "ĐU"),
        (unicodedata.normalize("NFD", "Số"), "Số"),
        ("a\u2013b", "a-b"),
        ("a\u2044b", "a/b"),
    ],
)
def test_d5a_normalize_text(written: str, normalized: str) -> None:
    assert normalize_text(written) == normalized


@pytest.mark.parametrize(
    "written",
    [
        "30/2020/NĐ-CP",
        "15/2023/QĐ-UBND",
        "Số: 15/2023/QĐ-UBND",
        "1234/QĐ-UBND",
        "01/2021/TT-BNV",
        "số 5 / 2024 / NĐ-CP",
    ],
)
def test_d5a_state_documents_are_refused(written: str) -> None:
    with pytest.raises(DocumentNumberError) as caught:
        parse_document_number(written)
    assert caught.value.code == "docnumber.state_document"
    assert "Nhà nước" in caught.value.message_vi
    assert "không phải văn bản của Đảng" in caught.value.message_vi
    assert "State document" in caught.value.message_en


@pytest.mark.parametrize("written", ["15-XX/TU", "15-NĐ/TU", "15-HĐ/TU", "15-QD/TU"])
def test_d5a_unknown_type_lists_known_types(written: str) -> None:
    with pytest.raises(DocumentNumberError) as caught:
        parse_document_number(written)
    assert caught.value.code == "docnumber.unknown_type"
    for known in KNOWN_TYPES:
        assert known in caught.value.message_vi
        assert known in caught.value.message_en


@pytest.mark.parametrize("written", ["15-NQ/ABC", "15-NQ/UBND", "15-NQ/DU"])
def test_d5a_unknown_issuer_lists_known_issuers(written: str) -> None:
    with pytest.raises(DocumentNumberError) as caught:
        parse_document_number(written)
    assert caught.value.code == "docnumber.unknown_issuer"
    for known in KNOWN_ISSUERS:
        assert known in caught.value.message_vi


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("", "docnumber.empty"),
        ("   ", "docnumber.empty"),
        ("Số:", "docnumber.malformed"),
        ("NQ/TU", "docnumber.malformed"),
        ("15-NQ", "docnumber.malformed"),
        ("15 NQ/TU", "docnumber.malformed"),
        ("-NQ/TU", "docnumber.malformed"),
        ("15-NQ/TU/HU", "docnumber.malformed"),
        ("15-NQ-TU", "docnumber.malformed"),
        ("Nghị quyết 15", "docnumber.malformed"),
        ("15-NQ/TU ngày 01/03/2021", "docnumber.malformed"),
        ("0-NQ/TU", "docnumber.number"),
        ("00-NQ/TU", "docnumber.number"),
    ],
)
def test_d5a_malformed_numbers_are_refused(written: str, code: str) -> None:
    with pytest.raises(DocumentNumberError) as caught:
        parse_document_number(written)
    assert caught.value.code == code
    assert caught.value.message_vi
    assert caught.value.message_en


def test_d5a_malformed_message_shows_the_expected_form() -> None:
    with pytest.raises(DocumentNumberError, match="15-NQ/TU"):
        parse_document_number("NQ15")


def test_d5a_types_and_issuers_are_extensible() -> None:
    parsed = parse_document_number("08-TTr/ThU", types=(*KNOWN_TYPES, "TTr"), issuers=(*KNOWN_ISSUERS, "ThU"))
    assert parsed == DocumentNumber(8, "TTr", "ThU")
    assert parsed.format() == "08-TTr/ThU"
    with pytest.raises(DocumentNumberError):
        parse_document_number("08-TTr/ThU")


@pytest.mark.parametrize(
    ("number", "doc_type", "issuer"),
    [(0, "NQ", "TU"), (-3, "NQ", "TU"), (1, "", "TU"), (1, "NQ", ""), (1, "N Q", "TU"), (1, "NQ", "T/U")],
)
def test_d5a_document_number_is_validated(number: int, doc_type: str, issuer: str) -> None:
    with pytest.raises(DocumentNumberError):
        DocumentNumber(number, doc_type, issuer)


@pytest.mark.parametrize("issuer", [f"{ETH}U", unicodedata.normalize("NFD", "ỦY")])
def test_d5a_document_number_refuses_unnormalised_symbols(issuer: str) -> None:
    with pytest.raises(DocumentNumberError):
        DocumentNumber(1, "NQ", issuer)


@pytest.mark.parametrize(
    ("written", "central"), [("12-KL/TW", True), ("36-HD/VPTW", True), ("31-HD/BTCTW", True), ("15-NQ/TU", False)]
)
def test_d5_central_issuers(written: str, central: bool) -> None:
    assert parse_document_number(written).is_central is central


PROVINCE = IssuerCandidate(uuid.UUID(int=1), 0, "TU")
DISTRICT = IssuerCandidate(uuid.UUID(int=2), 1, "HU")
COMMUNE = IssuerCandidate(uuid.UUID(int=3), 1, "ĐU")
BASE = IssuerCandidate(uuid.UUID(int=4), 2, "ĐU")
BLOC = IssuerCandidate(uuid.UUID(int=5), 1, "ĐUK")
CANDIDATES = (PROVINCE, DISTRICT, COMMUNE, BASE, BLOC)


@pytest.mark.parametrize(
    ("written", "chosen", "unit"),
    [
        ("15-NQ/TU", None, PROVINCE),
        ("03-CTr/HU", None, DISTRICT),
        ("9-BC/ĐUK", None, BLOC),
        ("45-CTHĐ/ĐU", COMMUNE.unit_id, COMMUNE),
        ("45-CTHĐ/ĐU", BASE.unit_id, BASE),
        ("15-NQ/TU", PROVINCE.unit_id, PROVINCE),
    ],
)
def test_d5a_resolve_issuer_gives_the_document_key(
    written: str, chosen: uuid.UUID | None, unit: IssuerCandidate
) -> None:
    number = parse_document_number(written)
    key = resolve_issuer(number, CANDIDATES, term="2020-2025", chosen=chosen)
    assert key == DocumentKey(unit.unit_id, number.type, number.number, "2020-2025")


def test_d5a_suffix_alone_does_not_fix_the_level() -> None:
    number = parse_document_number("45-CTHĐ/ĐU")
    assert candidates_for(number, CANDIDATES) == (COMMUNE, BASE)
    with pytest.raises(DocumentNumberError) as caught:
        resolve_issuer(number, CANDIDATES, term="2020-2025")
    assert caught.value.code == "docnumber.issuer_ambiguous"
    assert "1, 2" in caught.value.message_vi


@pytest.mark.parametrize(
    ("written", "chosen", "code"),
    [
        ("15-NQ/TU", DISTRICT.unit_id, "docnumber.issuer_mismatch"),
        ("45-CTHĐ/ĐU", BLOC.unit_id, "docnumber.issuer_mismatch"),
        ("15-NQ/TU", uuid.UUID(int=99), "docnumber.issuer_not_candidate"),
        ("12-KL/TW", None, "docnumber.issuer_unknown_unit"),
    ],
)
def test_d5a_resolve_issuer_refuses_a_unit_that_does_not_fit(written: str, chosen: uuid.UUID | None, code: str) -> None:
    with pytest.raises(DocumentNumberError) as caught:
        resolve_issuer(parse_document_number(written), CANDIDATES, term="2020-2025", chosen=chosen)
    assert caught.value.code == code


def test_d5a_resolve_issuer_matches_suffixes_after_normalisation() -> None:
    unit = IssuerCandidate(uuid.UUID(int=7), 1, f"{ETH}u")
    key = resolve_issuer(parse_document_number("45-CTHĐ/ĐU"), [unit], term="2025-2030")
    assert key.issuer_unit_id == unit.unit_id


def test_d5a_resolve_issuer_requires_a_term() -> None:
    with pytest.raises(DocumentNumberError) as caught:
        resolve_issuer(parse_document_number("15-NQ/TU"), CANDIDATES, term=" ")
    assert caught.value.code == "docnumber.term"


def test_d5a_numbering_restarts_each_term_and_type() -> None:
    number = parse_document_number("01-NQ/TU")
    first_term = resolve_issuer(number, CANDIDATES, term="2015-2020")
    second_term = resolve_issuer(number, CANDIDATES, term="2020-2025")
    directive = resolve_issuer(parse_document_number("01-CT/TU"), CANDIDATES, term="2020-2025")
    assert len({first_term, second_term, directive}) == 3


def test_d5a_a_party_cell_signs_its_report_as_cb() -> None:
    # A chi bộ cơ sở with no committee office of its own issues «03-BC/CB» (found in the whole-round browser test).
    assert str(parse_document_number("Số 03 - BC/CB")) == "03-BC/CB"
