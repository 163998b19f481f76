"""Vietnamese wording shared by the exports and the CLI summary of a consolidation."""

from __future__ import annotations

from collections.abc import Mapping

from shared.domain.consolidation import GROUP_LABELS_VI, Consolidation, QuestionFigures
from shared.domain.formatting import format_date, format_decimal, format_percent

KIND_TITLE: Mapping[str, str] = {"preliminary": "Sơ kết", "final": "Tổng kết"}
FORM_LABELS_VI: Mapping[str, str] = {"in_person": "Trực tiếp", "online": "Trực tuyến", "mixed": "Kết hợp"}


_TYPE_NAMES: Mapping[str, str] = {"NQ": "Nghị quyết", "CT": "Chỉ thị", "KL": "Kết luận"}


def document_name(number: str) -> str:
    """`15-NQ/TU` → `Nghị quyết số 15-NQ/TU` (D5)."""
    kind = number.split("-", 1)[-1].split("/", 1)[0]
    return f"{_TYPE_NAMES[kind]} số {number}" if kind in _TYPE_NAMES else f"văn bản số {number}"


def review_title(c: Consolidation, years: int | None = None) -> str:
    """`Sơ kết 3 năm thực hiện Nghị quyết số 15-NQ/TU ngày …` (the usual title of a review report)."""
    span = f" {years} năm" if years else ""
    return f"{KIND_TITLE[c.kind]}{span} thực hiện {document_name(c.document_number)}: {c.document_title}"


def cut_off_line(c: Consolidation) -> str:
    return f"Số liệu tính đến ngày {format_date(c.cut_off)} (D20: mốc {KIND_TITLE[c.kind].lower()} đến hạn)"


def issuer_suffix(depth: int) -> str:
    """D5a: the province's documents end in /TU; lower committees' in /ĐU."""
    return "TU" if depth == 0 else "ĐU"


def groups_vi(by_group: Mapping[str, int]) -> str:
    """`đảng viên 2, cán bộ 1, quần chúng 1` (D22), in the report's order, groups with none left out."""
    return ", ".join(
        f"{label.lower()} {format_decimal(by_group[g])}" for g, label in GROUP_LABELS_VI.items() if by_group.get(g)
    )


def question_result_vi(q: QuestionFigures) -> str:
    """One question's result as the report states it: shares of those who answered it, or the mean (D22)."""
    if not q.answered:
        return "chưa có trả lời"
    if q.kind in ("single", "multiple"):
        return "; ".join(f"{opt}: {format_decimal(n)} ({format_percent(n, q.answered)})" for opt, n in q.counts.items())
    mean = q.mean
    if q.kind == "scale" and mean is not None:
        points = ", ".join(f"{p} điểm: {format_decimal(n)}" for p, n in q.counts.items())
        return f"bình quân {format_decimal(mean, 2, trim=True)} điểm ({points})"
    if q.kind == "number" and mean is not None:
        return f"tổng {format_decimal(q.total, trim=True)}, bình quân {format_decimal(mean, 2, trim=True)}"
    return f"{format_decimal(q.answered)} ý kiến"
