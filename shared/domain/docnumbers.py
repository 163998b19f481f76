"""Party document numbers (D5, D5a): `15-NQ/TU` in every written form, and the key that identifies a document."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from shared.domain.errors import DocumentNumberError

KNOWN_TYPES: tuple[str, ...] = ("NQ", "CT", "KL", "QĐ", "HD", "KH", "CTr", "CTHĐ", "ĐA", "CV", "BC", "TB")
"""Document types in their canonical spelling (D5a); callers may pass a longer tuple from settings."""

KNOWN_ISSUERS: tuple[str, ...] = ("TW", "VPTW", "BTCTW", "TU", "VPTU", "HU", "QU", "ĐU", "ĐUK", "ĐĐ", "BCSĐ", "CB")
"""Issuer suffixes in their canonical spelling (D5a, D2; CB: a Party cell, chi bộ, which issues its own reports);
callers may pass a longer tuple from settings."""

CENTRAL_ISSUERS: tuple[str, ...] = ("TW", "VPTW", "BTCTW")
"""Suffixes that always mean Central (Trung ương, Bộ Chính trị, Ban Bí thư and central agencies)."""

# Dashes and slashes people paste from word processors, and the Icelandic eth that looks like Đ (D5a).
_LOOKALIKES = str.maketrans(
    {
        "\u00d0": "\u0110",  # Ð → Đ
        "\u00f0": "\u0111",  # ð → đ
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\uff0d": "-",
        "\u2044": "/",
        "\u2215": "/",
        "\uff0f": "/",
    }
)
_PREFIX = re.compile(r"số\s*:?\s*", re.IGNORECASE)
_PARTY = re.compile(r"([0-9]+)\s*-\s*([^\s/-]+)\s*/\s*([^\s/-]+)")
# State numbers put a slash straight after the number: 30/2020/NĐ-CP, 1234/QĐ-UBND.
_STATE = re.compile(r"[0-9]+\s*/")


@dataclass(frozen=True, slots=True)
class DocumentNumber:
    """A Party document number as printed on the document, e.g. `15-NQ/TU` (D5a)."""

    number: int
    type: str
    issuer: str

    def __post_init__(self) -> None:
        if self.number < 1:
            raise DocumentNumberError(
                "docnumber.number", "Số văn bản phải từ 1 trở lên.", "A document number starts at 1."
            )
        for part in (self.type, self.issuer):
            # Stored symbols are already normalised, so equal documents compare and hash equal.
            if not part or normalize_text(part) != part or any(c in part for c in " -/"):
                raise DocumentNumberError(
                    "docnumber.part",
                    f"Ký hiệu «{part}» không hợp lệ.",
                    f"«{part}» is not a valid type or issuer symbol.",
                )

    def format(self) -> str:
        """The canonical written form; numbers below 10 take a leading zero, as Party documents print them."""
        return f"{self.number:02d}-{self.type}/{self.issuer}"

    def __str__(self) -> str:
        return self.format()

    @property
    def is_central(self) -> bool:
        return self.issuer in CENTRAL_ISSUERS


@dataclass(frozen=True, slots=True)
class IssuerCandidate:
    """A unit that might have issued a document: its id, its depth in the tree, and the suffix it signs with."""

    unit_id: uuid.UUID
    depth: int
    suffix: str


@dataclass(frozen=True, slots=True)
class DocumentKey:
    """What identifies a Party document: numbering restarts per type in each committee term (D5a)."""

    issuer_unit_id: uuid.UUID
    type: str
    number: int
    term: str
    """The caller's identifier of the issuing committee's term, e.g. `2020-2025`."""


def normalize_text(text: str) -> str:
    """NFC, the eth look-alike replaced by Đ, typographic dashes and slashes made ASCII (D5a)."""
    return unicodedata.normalize("NFC", text).translate(_LOOKALIKES)


def parse_document_number(
    text: str, *, types: Sequence[str] = KNOWN_TYPES, issuers: Sequence[str] = KNOWN_ISSUERS
) -> DocumentNumber:
    """Parse `15-NQ/TU`, `Số: 36-HD/VPTW`, `31 - HD/BTCTW`, `số 05-CT/TU` ... into its canonical parts (D5a).

    Type and issuer match case-insensitively and come back in their canonical spelling. Raises
    `DocumentNumberError` for a State document number, an unknown type or issuer, or anything else malformed.
    """
    normalized = normalize_text(text).strip()
    if not normalized:
        raise DocumentNumberError("docnumber.empty", "Chưa nhập số văn bản.", "The document number is empty.")
    prefix = _PREFIX.match(normalized)
    body = normalized[prefix.end() :] if prefix else normalized
    if _STATE.match(body):
        raise DocumentNumberError(
            "docnumber.state_document",
            f"«{normalized}» là số văn bản của Nhà nước, không phải văn bản của Đảng.",
            f"«{normalized}» is a State document number, not a Party document.",
        )
    match = _PARTY.fullmatch(body)
    if match is None:
        raise DocumentNumberError(
            "docnumber.malformed",
            f"«{normalized}» không đúng dạng số văn bản của Đảng, ví dụ 15-NQ/TU.",
            f"«{normalized}» is not a Party document number such as 15-NQ/TU.",
        )
    digits, written_type, written_issuer = match.groups()
    doc_type = _canonical(written_type, types)
    if doc_type is None:
        raise DocumentNumberError(
            "docnumber.unknown_type",
            f"Loại văn bản «{written_type}» không có trong danh mục; các loại đã biết: {', '.join(types)}.",
            f"Unknown document type «{written_type}»; known types: {', '.join(types)}.",
        )
    issuer = _canonical(written_issuer, issuers)
    if issuer is None:
        raise DocumentNumberError(
            "docnumber.unknown_issuer",
            f"Ký hiệu cơ quan ban hành «{written_issuer}» không có trong danh mục; các ký hiệu đã biết: "
            f"{', '.join(issuers)}.",
            f"Unknown issuer «{written_issuer}»; known issuers: {', '.join(issuers)}.",
        )
    return DocumentNumber(int(digits), doc_type, issuer)


def format_document_number(number: DocumentNumber) -> str:
    """The canonical written form, `15-NQ/TU`."""
    return number.format()


def candidates_for(number: DocumentNumber, candidates: Iterable[IssuerCandidate]) -> tuple[IssuerCandidate, ...]:
    """The candidate units whose suffix fits the number's issuer; more than one when a suffix is used at many levels."""
    return tuple(c for c in candidates if _same_symbol(c.suffix, number.issuer))


def resolve_issuer(
    number: DocumentNumber,
    issuer_candidates: Iterable[IssuerCandidate],
    *,
    term: str,
    chosen: uuid.UUID | None = None,
) -> DocumentKey:
    """The key of a document once its issuing unit is known (D5a).

    `chosen` is the unit the caller picked among `issuer_candidates`; its suffix must fit the number. Without a
    choice, the single candidate whose suffix fits is taken; none or several (ĐU serves many levels) is refused,
    because the suffix alone does not fix the level.
    """
    if not term.strip():
        raise DocumentNumberError("docnumber.term", "Chưa chọn nhiệm kỳ.", "The committee term is missing.")
    pool = tuple(issuer_candidates)
    if chosen is not None:
        unit = next((c for c in pool if c.unit_id == chosen), None)
        if unit is None:
            raise DocumentNumberError(
                "docnumber.issuer_not_candidate",
                "Đơn vị được chọn không nằm trong danh sách đơn vị có thể ban hành.",
                "The chosen unit is not among the candidate issuers.",
            )
        if not _same_symbol(unit.suffix, number.issuer):
            raise DocumentNumberError(
                "docnumber.issuer_mismatch",
                f"Số {number} mang ký hiệu {number.issuer}, nhưng đơn vị được chọn ký với ký hiệu {unit.suffix}.",
                f"{number} carries issuer {number.issuer}, but the chosen unit signs as {unit.suffix}.",
            )
        return DocumentKey(unit.unit_id, number.type, number.number, term)
    fitting = candidates_for(number, pool)
    if not fitting:
        raise DocumentNumberError(
            "docnumber.issuer_unknown_unit",
            f"Không có đơn vị nào ký với ký hiệu {number.issuer}.",
            f"No candidate unit signs as {number.issuer}.",
        )
    if len(fitting) > 1:
        depths = ", ".join(str(depth) for depth in sorted({c.depth for c in fitting}))
        raise DocumentNumberError(
            "docnumber.issuer_ambiguous",
            f"Ký hiệu {number.issuer} được dùng ở nhiều đơn vị (cấp {depths}); hãy chọn đơn vị ban hành.",
            f"Issuer {number.issuer} is used by several units (depths {depths}); choose the issuing unit.",
        )
    return DocumentKey(fitting[0].unit_id, number.type, number.number, term)


def _canonical(written: str, known: Sequence[str]) -> str | None:
    return next((symbol for symbol in known if _same_symbol(symbol, written)), None)


def _same_symbol(left: str, right: str) -> bool:
    return normalize_text(left).casefold() == normalize_text(right).casefold()
