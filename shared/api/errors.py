"""How the API answers errors: a `Refusal` and every framework error as one JSON `Problem` shape."""

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

from shared.core.errors import Problem, Refusal

log = logging.getLogger("nqsync.api")


def _respond(status: int, problem: Problem) -> Response[bytes]:
    return Response(content=msgspec.json.encode(problem), status_code=status, media_type="application/json")


def _api_error(_: Request[Any, Any, Any], exc: Refusal) -> Response[bytes]:
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
    Refusal: _api_error,
    ValidationException: _validation,
    HTTPException: _http,
    Exception: _internal,
}
