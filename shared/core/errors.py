"""Refusals: what a service raises when a request breaks a rule, naming the field and the rule, in Vietnamese with
English beside it. The API renders one as JSON `Problem`; a page shows it next to the field."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from shared.domain.errors import DomainError


class Problem(msgspec.Struct, frozen=True):
    """What went wrong: `field` and `rule` (a D-rule id or a check name) say where; nothing was changed."""

    code: str
    message: str
    """Vietnamese, for the user."""
    message_en: str
    field: str | None = None
    rule: str | None = None
    rows: list[RowProblem] | None = None
    """For a refused import: every bad row, so the whole file can be fixed in one go."""


class RowProblem(msgspec.Struct, frozen=True):
    row: int
    """Row number as the spreadsheet shows it (the header is row 1)."""
    field: str
    message: str
    message_en: str


class Refusal(Exception):
    """A refusal; raised anywhere below a handler and rendered as `Problem`."""

    def __init__(
        self,
        status: int,
        code: str,
        message_vi: str,
        message_en: str,
        *,
        field: str | None = None,
        rule: str | None = None,
        rows: list[RowProblem] | None = None,
    ) -> None:
        super().__init__(f"{message_vi} ({message_en})")
        self.status = status
        self.problem = Problem(code, message_vi, message_en, field, rule, rows)

    @classmethod
    def from_domain(cls, exc: DomainError, *, field: str, rule: str, status: int = 422) -> Refusal:
        return cls(status, exc.code, exc.message_vi, exc.message_en, field=field, rule=rule)


def invalid(field: str, rule: str, message_vi: str, message_en: str, code: str = "invalid") -> Refusal:
    return Refusal(422, code, message_vi, message_en, field=field, rule=rule)


def check_one_of(value: str, choices: Sequence[str], field: str, rule: str, what_vi: str, glosses_vi: str = "") -> None:
    """422 unless `value` is one of a closed list of codes; the Vietnamese may gloss the codes."""
    if value not in choices:
        listed = ", ".join(choices)
        gloss = f" ({glosses_vi})" if glosses_vi else ""
        vi, en = f"{what_vi} phải là một trong: {listed}{gloss}.", f"{field} must be one of: {listed}."
        raise invalid(field, rule, vi, en)


def conflict(field: str, rule: str, message_vi: str, message_en: str, code: str) -> Refusal:
    """409: the request collides with what is already recorded (a second programme for the document, a stale rev)."""
    return Refusal(409, code, message_vi, message_en, field=field, rule=rule)


def not_found(what_vi: str, what_en: str) -> Refusal:
    return Refusal(404, "not_found", f"Không tìm thấy {what_vi}.", f"No such {what_en}.")


def forbidden_scope() -> Refusal:
    # The same answer whether the record exists elsewhere or not, so nothing outside the subtree leaks (D4).
    return Refusal(
        403,
        "out_of_scope",
        "Đơn vị này nằm ngoài phạm vi đơn vị của bạn; mỗi đơn vị chỉ làm việc với đơn vị mình và cấp dưới (D4).",
        "That unit is outside your unit's subtree; a unit works only with its own subtree (D4).",
        rule="D4",
    )
