"""API errors: one JSON shape for every refusal, naming the field and the rule, in Vietnamese with English beside it."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.types import ExceptionHandlersMap

from shared.domain.errors import DomainError

log = logging.getLogger("nqsync.api")


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


class ApiError(Exception):
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
    def from_domain(cls, exc: DomainError, *, field: str, rule: str, status: int = 422) -> ApiError:
        return cls(status, exc.code, exc.message_vi, exc.message_en, field=field, rule=rule)


def invalid(field: str, rule: str, message_vi: str, message_en: str, code: str = "invalid") -> ApiError:
    return ApiError(422, code, message_vi, message_en, field=field, rule=rule)


def not_found(what_vi: str, what_en: str) -> ApiError:
    return ApiError(404, "not_found", f"Không tìm thấy {what_vi}.", f"No such {what_en}.")


def forbidden_scope() -> ApiError:
    # The same answer whether the record exists elsewhere or not, so nothing outside the subtree leaks (D4).
    return ApiError(
        403,
        "out_of_scope",
        "Đơn vị này nằm ngoài phạm vi đơn vị của bạn; mỗi đơn vị chỉ làm việc với đơn vị mình và cấp dưới (D4).",
        "That unit is outside your unit's subtree; a unit works only with its own subtree (D4).",
        rule="D4",
    )


def _respond(status: int, problem: Problem) -> Response[bytes]:
    return Response(content=msgspec.json.encode(problem), status_code=status, media_type="application/json")


def _api_error(_: Request[Any, Any, Any], exc: ApiError) -> Response[bytes]:
    return _respond(exc.status, exc.problem)


def _validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[bytes]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    first = extra[0] if extra and isinstance(extra[0], dict) else {}
    field = str(first.get("key") or "") or None
    detail = str(first.get("message") or exc.detail)
    return _respond(
        400,
        Problem(
            "bad_request",
            f"Dữ liệu gửi lên không hợp lệ{f' ở trường «{field}»' if field else ''}: {detail}. Không có gì được ghi.",
            f"Invalid request{f' at field {field!r}' if field else ''}: {detail}. Nothing was changed.",
            field=field,
            rule="schema",
        ),
    )


def _http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    if isinstance(exc, NotAuthorizedException):
        problem = Problem(
            "not_signed_in",
            "Chưa đăng nhập hoặc phiên đăng nhập đã hết hạn.",
            "Not signed in, or the session has expired.",
            rule="auth",
        )
    elif isinstance(exc, PermissionDeniedException):
        problem = Problem("forbidden", "Bạn không có quyền thực hiện việc này.", "You may not do this.", rule="role")
    elif isinstance(exc, NotFoundException):
        problem = Problem("not_found", "Không tìm thấy địa chỉ này.", "No such address.")
    else:
        problem = Problem("http_error", str(exc.detail), str(exc.detail))
    return _respond(exc.status_code, problem)


def _internal(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    log.exception("request %s failed", request.url.path, exc_info=exc)
    return _respond(
        500,
        Problem("internal", "Máy chủ gặp lỗi nội bộ; không có gì được ghi.", "Internal error; nothing was changed."),
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ApiError: _api_error,
    ValidationException: _validation,
    HTTPException: _http,
    Exception: _internal,
}
