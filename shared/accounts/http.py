"""How a request is signed in — the session cookie or bearer token, the role a route needs, the guard and the caller
it provides, the client's address behind a trusted proxy — shared by the API and the pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, State
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler

from shared.accounts.service import (
    PASSWORD_CHANGE_OK,
    SESSION_COOKIE,
    SESSION_HOURS,
    password_change_required,
    session_for,
)
from shared.audit.actor import signed_in
from shared.core.scope import Caller
from shared.settings import AuthSettings


def token_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return connection.cookies.get(SESSION_COOKIE) or None


def auth_settings(connection: ASGIConnection[Any, Any, Any, Any]) -> AuthSettings:
    settings = connection.app.state.get("settings")
    return settings.auth if settings is not None else AuthSettings()


def required_role(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> str:
    """A route's `opt["role"]`, else viewer to read and editor to write."""
    role = handler.opt.get("role")
    if isinstance(role, str):
        return role
    return "viewer" if connection.scope.get("method") in ("GET", "HEAD") else "editor"


async def guard(
    connection: ASGIConnection[Any, Any, Any, Any],
    handler: BaseRouteHandler,
    token: str | None,
    via: str,
    must_change: Callable[[], Exception],
    forbidden: Callable[[str], Exception],
) -> Caller | None:
    """The guard of the API and of the pages: a live session for `token`, and a role that allows the action (D27),
    else `forbidden(the role needed)`; None on a public route. The caller is kept in the request's state and named
    in the audit trail."""
    if handler.opt.get("public"):
        return None
    found = None if not token else await session_for(connection.app.state.db, token, auth_settings(connection))
    if found is None:
        raise NotAuthorizedException()
    caller, must_change_password = found
    if must_change_password and not handler.opt.get(PASSWORD_CHANGE_OK):
        raise must_change()
    needed = required_role(connection, handler)
    if not caller.at_least(needed):
        raise forbidden(needed)
    connection.state.caller = caller
    signed_in(caller, connection, via)  # D27: the audit trail names who wrote
    return caller


def _forbidden(needed: str) -> PermissionDeniedException:
    return PermissionDeniedException()


async def auth_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Every API route: a live session, and a role that allows the action (D27). Unit scope is checked per record."""
    await guard(connection, handler, token_of(connection), "api", password_change_required, _forbidden)


def provide_caller(request: Request[Any, Any, State]) -> Caller:
    caller: Caller = request.state.caller
    return caller


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The client's address as uvicorn gives it (already the X-Forwarded-For of a trusted proxy)."""
    client = connection.scope.get("client")
    return str(client[0]) if client else "unknown"


def session_cookie(token: str, hours: float = SESSION_HOURS) -> Cookie:
    """The session cookie: HttpOnly (no script reads it) and SameSite=Lax (not sent on cross-site posts); Secure is
    added by the security-headers middleware when the request came over HTTPS."""
    return Cookie(key=SESSION_COOKIE, value=token, httponly=True, samesite="lax", max_age=int(hours * 3600), path="/")
