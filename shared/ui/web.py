"""What every page shares: the session guard, CSRF, templates, Vietnamese filters, and error pages.

A page is signed in by the same session as the API (the `nqsync_session` cookie, HttpOnly, SameSite=Lax) and checks
roles the same way: reading needs viewer, any form post needs editor, unless the handler's `opt["role"]` says more.
Every form post also carries a CSRF token (Litestar's double-submit cookie, signed with a per-instance secret).
"""

from __future__ import annotations

import logging
import os
import secrets
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, TypeAlias
from urllib.parse import quote, urlencode

from jinja2 import Environment
from litestar import Request, Response, get
from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, State, UploadFile
from litestar.di import NamedDependency, Provide
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.handlers import BaseRouteHandler, HTTPRouteHandler
from litestar.middleware.csrf import CSRFMiddleware
from litestar.params import FromQuery, QueryParameter
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp, ExceptionHandlersMap, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState
from sqlalchemy import func, select

from shared.accounts.http import guard
from shared.accounts.service import SESSION_COOKIE
from shared.core.errors import Refusal
from shared.core.scope import Caller, UnitInfo, unit_in_scope
from shared.db.engine import Database
from shared.domain.formatting import format_date, format_decimal, format_moment, format_percent
from shared.domain.grades import format_score
from shared.domain.tree import KIND_LABELS_VI, UnitKind
from shared.sync import store
from shared.sync.tables import Identity, Rejection, UnitRow, Upstream

log = logging.getLogger("nqsync.ui")

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
LOGIN_PATH = "/dang-nhap"
PASSWORD_PATH = "/doi-mat-khau"
CSRF_COOKIE = "nqsync_csrf"
SECRET_FILE = "ui-secret"

ROLE_LABELS_VI: Mapping[str, str] = {"viewer": "Chỉ xem", "editor": "Cập nhật", "admin": "Quản trị"}

NAV: tuple[tuple[str, str], ...] = (
    ("/", "Việc cần làm"),
    ("/van-ban", "Văn bản"),
    ("/lich-so-ket", "Lịch sơ kết, tổng kết"),
    ("/bai-thu-hoach", "Bài thu hoạch"),
    ("/dang-vien", "Đảng viên"),
    ("/hoc-tap", "Học tập & tuyên truyền"),
    ("/chuong-trinh", "Chương trình hành động"),
    ("/khao-sat", "Khảo sát"),
    ("/bao-cao", "Báo cáo sơ kết, tổng kết"),
    ("/tong-hop", "Tổng hợp sơ kết, tổng kết"),
    ("/dong-bo", "Đồng bộ"),
    ("/don-vi", "Đơn vị"),
)
ADMIN_NAV: tuple[tuple[str, str], ...] = (("/tai-khoan", "Tài khoản"), ("/nut-cap-duoi", "Nút cấp dưới"))


# Secrets and CSRF.


def instance_secret(data_dir: Path) -> str:
    """This instance's secret for signing CSRF tokens: made once in the data folder, shared by every worker."""
    path = data_dir / SECRET_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker made it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def csrf_config(secret: str) -> CSRFConfig:
    return CSRFConfig(secret=secret, cookie_name=CSRF_COOKIE, cookie_httponly=True, cookie_samesite="lax")


class PageCSRFMiddleware(CSRFMiddleware):
    """Litestar's CSRF check, with the instance secret read on the first request rather than when the app is built
    (building an app for its routes or schema writes nothing to the data folder)."""

    def __init__(self, app: ASGIApp, data_dir: Path) -> None:
        super().__init__(app, csrf_config(""))
        self.data_dir = data_dir

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.config.secret:
            self.config = replace(self.config, secret=instance_secret(self.data_dir))
        await super().__call__(scope, receive, send)


# The session guard.


class MustChangePassword(NotAuthorizedException):
    """The account signed in with a password someone else gave it: every page leads to the change-password page."""


def _forbidden_role(needed: str) -> PermissionDeniedException:
    return PermissionDeniedException(f"role:{needed}")  # which role the page needed


async def page_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """A live session from the cookie, and a role that allows the action, exactly as the API's guard (D27)."""
    token = connection.cookies.get(SESSION_COOKIE)  # pages take the cookie only, never a bearer token
    caller = await guard(connection, handler, token, "web", MustChangePassword, _forbidden_role)
    if caller is not None:
        connection.state.node_state = await node_state(connection.app.state.db, caller)


@dataclass(frozen=True, slots=True)
class NodeState:
    """What the header of every page shows: the signed-in person's level, and this machine's sync state."""

    role: str
    """`hub` or `node`."""
    level: str
    """The level label of the person's unit, as the unit tree writes it ("Huyện", "Cơ sở")."""
    last_sync: datetime | None
    waiting: int
    """Local changes not yet acknowledged by the upstream that has the fewest."""
    refused: int
    failing: bool
    """The last attempt with an upstream failed."""


async def node_state(db: Database, caller: Caller) -> NodeState:
    """A few small reads per page, so nobody works for days without noticing that sync stopped."""
    async with db.read() as conn:
        role = (await conn.execute(select(Identity.role))).scalar_one_or_none() or "hub"
        level = (
            await conn.execute(select(UnitRow.level).where(UnitRow.id == caller.unit.id).limit(1))
        ).scalar_one_or_none()
        head = await store.head(conn)
        ups = (
            await conn.execute(
                select(Upstream.push_cursor, Upstream.last_push, Upstream.last_pull, Upstream.last_error)
            )
        ).all()
        refused = int((await conn.execute(select(func.count()).select_from(Rejection))).scalar_one())
    moments = [m for u in ups for m in (u.last_push, u.last_pull) if m is not None]
    return NodeState(
        role=role,
        level=level or "",
        last_sync=max(moments) if moments else None,
        waiting=min((max(head - u.push_cursor, 0) for u in ups), default=0),
        refused=refused,
        failing=any(u.last_error for u in ups),
    )


# Templates.


def _score(value: Decimal | None) -> str:
    return "—" if value is None else format_score(value)


def _date(value: date | None) -> str:
    return "—" if value is None else format_date(value)


def _moment(value: datetime | None) -> str:
    return "chưa có" if value is None else format_moment(value)


def _number(value: int | None) -> str:
    return "—" if value is None else format_decimal(value)


def _percent(part: int | None, whole: int | None) -> str:
    return "—" if part is None or whole is None else format_percent(part, whole)


def _kind(value: str) -> str:
    try:
        return KIND_LABELS_VI[UnitKind(value)]
    except ValueError:
        return value


def _register(engine: JinjaTemplateEngine) -> None:
    env: Environment = engine.engine
    env.filters.update(
        date=_date, moment=_moment, score=_score, number=_number, role=lambda r: ROLE_LABELS_VI.get(r, r), kind=_kind
    )
    env.globals.update(percent=_percent, nav=NAV, admin_nav=ADMIN_NAV)
    env.trim_blocks = True
    env.lstrip_blocks = True


def template_dirs() -> list[Path | os.PathLike[Any] | str]:
    """The shell's templates first, then each concept's own (`shared/<concept>/templates/`): names are unique."""
    return [TEMPLATES, *sorted(p for p in HERE.parent.glob("*/templates") if p.is_dir() and p != TEMPLATES)]


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(directory=template_dirs(), engine=JinjaTemplateEngine, engine_callback=_register)


@dataclass(frozen=True, slots=True)
class Page:
    """The frame of every signed-in page: who is working, and which unit of their subtree they are looking at."""

    me: Caller
    viewer: UnitInfo
    path: str

    @property
    def can_edit(self) -> bool:
        return self.me.at_least("editor")

    @property
    def is_admin(self) -> bool:
        return self.me.at_least("admin")

    @property
    def other_unit(self) -> bool:
        return self.viewer.id != self.me.unit.id

    def unit_query(self) -> str:
        """`?unit=...` when looking at a unit below one's own, so links and forms stay on it."""
        return f"unit={self.viewer.id}" if self.other_unit else ""


def where(page: Page, **query: Any) -> str:
    """`?…` for a link, a form or a redirect: the query given, and the viewed unit when it is not one's own."""
    values = {k: str(v) for k, v in query.items() if v not in (None, "")}
    if page.other_unit:
        values["unit"] = str(page.viewer.id)
    return "?" + urlencode(values) if values else ""


def back_to(path: str, page: Page, **query: Any) -> Redirect:
    """After a write: to `path` on the same unit, with the query that tells the page what was saved (303)."""
    return Redirect(path + where(page, **query), status_code=303)


def render(
    name: str, page: Page | None, status_code: int = 200, headers: Mapping[str, str] | None = None, **context: Any
) -> Template:
    return Template(
        template_name=name,
        context={"page": page, **context},
        status_code=status_code,
        headers=dict(headers or {}),
    )


def close_uploads(request: Request[Any, Any, Any]) -> None:
    """Close the temporary files of an uploaded form, whether or not a handler got to read them (a refused CSRF
    check parses the form first)."""
    form = ScopeState.from_scope(request.scope).form
    if not isinstance(form, dict):
        return
    for value in form.values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, UploadFile):
                item.file.close()


async def after_page(request: Request[Any, Any, Any]) -> None:
    close_uploads(request)


# Error pages: a person reads what happened and what to do; the API keeps its JSON errors.


def _error_page(
    request: Request[Any, Any, Any], status: int, title: str, message: str, hint: str = ""
) -> Response[Any]:
    close_uploads(request)
    caller = request.state.get("caller")
    page = Page(caller, caller.unit, request.url.path) if isinstance(caller, Caller) else None
    return render("error.html", page, status_code=status, title=title, message=message, hint=hint)


def _not_signed_in(request: Request[Any, Any, Any], exc: NotAuthorizedException) -> Response[Any]:
    if isinstance(exc, MustChangePassword):
        return Redirect(PASSWORD_PATH, status_code=303)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not request.cookies.get(SESSION_COOKIE):
        return Redirect(f"{LOGIN_PATH}?next={quote(target, safe='')}", status_code=303)
    # A cookie whose session is gone (idle, expired, signed out everywhere): say so on the sign-in page, and drop it.
    gone = Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/")
    return Redirect(f"{LOGIN_PATH}?het_phien=1&next={quote(target, safe='')}", status_code=303, cookies=[gone])


def _forbidden(request: Request[Any, Any, Any], exc: PermissionDeniedException) -> Response[Any]:
    if "CSRF" in str(exc.detail):
        return _error_page(
            request,
            403,
            "Biểu mẫu đã hết hiệu lực",
            "Biểu mẫu gửi lên không kèm mã bảo vệ hợp lệ nên không được ghi; không có gì thay đổi.",
            "Hãy tải lại trang rồi nhập và gửi lại.",
        )
    return _error_page(
        request,
        403,
        "Không có quyền",
        "Tài khoản của bạn không được làm việc này (chỉ được xem); không có gì thay đổi.",
        "Cần quyền cập nhật: hãy nhờ quản trị của đơn vị.",
    )


def _api_error(request: Request[Any, Any, Any], exc: Refusal) -> Response[Any]:
    titles = {403: "Ngoài phạm vi", 404: "Không tìm thấy", 409: "Không ghi được"}
    return _error_page(request, exc.status, titles.get(exc.status, "Không thực hiện được"), exc.problem.message)


def _validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    return _error_page(
        request,
        400,
        "Địa chỉ không hợp lệ",
        "Địa chỉ trang có tham số sai (có thể do chép thiếu); không có gì thay đổi.",
        "Hãy quay lại và chọn từ danh mục.",
    )


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if isinstance(exc, NotFoundException):
        return _error_page(request, 404, "Không tìm thấy", "Không có trang hay bản ghi này trong phạm vi của bạn.")
    return _error_page(request, exc.status_code, "Không thực hiện được", str(exc.detail))


def _internal(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("page %s failed", request.url.path, exc_info=exc)
    return _error_page(
        request,
        500,
        "Lỗi máy chủ",
        "Máy chủ gặp lỗi nội bộ; không có gì được ghi.",
        "Hãy thử lại; nếu vẫn lỗi, báo cho quản trị kèm giờ xảy ra.",
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    NotAuthorizedException: _not_signed_in,
    PermissionDeniedException: _forbidden,
    Refusal: _api_error,
    ValidationException: _validation,
    HTTPException: _http,
    Exception: _internal,
}


async def provide_frame(
    request: Request[Any, Any, State], caller: NamedDependency[Caller], unit: FromQuery[uuid.UUID | None] = None
) -> Page:
    """A page's frame, as a handler's `frame: Frame` parameter: the unit viewed is `?unit=` (one's own by default)."""
    return await page_for(request, caller, unit)


Frame: TypeAlias = NamedDependency[Page]
Listed: TypeAlias = NamedDependency[dict[str, Any]]
"""A list page's context as its filters ask, shared by the page and its .xlsx (a `listed` dependency of the
concept's own, which reads the filters once)."""
StateQuery = Annotated[str | None, QueryParameter(name="state")]
"""A list's state filter (`?state=`; `state` itself is a name Litestar keeps for the app state)."""


def listed_by_document_and_state(
    context: Callable[[Request[Any, Any, State], Page, uuid.UUID | None, str | None], Awaitable[dict[str, Any]]],
) -> dict[str, Provide]:
    """The `listed` dependency of a list filtered by document and state (`?document=&state=`): the `context`, whose
    `docs` are the documents to choose from, with the filters as chosen and an empty form (`document_filters`)."""

    async def listed(
        request: Request[Any, Any, State],
        frame: Frame,
        document: FromQuery[uuid.UUID | None] = None,
        which: StateQuery = None,
    ) -> dict[str, Any]:
        found = await context(request, frame, document, which)
        return {**document_filters(found["docs"], document, which), **found}

    return {"listed": Provide(listed)}


def list_page(path: str, template: str, listed: dict[str, Provide]) -> HTTPRouteHandler:
    """The page of a list whose whole context is its `listed` dependency, with `?saved=` telling what was written."""

    async def page(frame: Frame, listed: Listed, saved: FromQuery[str | None] = None) -> Response[Any]:
        return render(template, frame, saved=saved, **listed)

    return get(path, dependencies=listed)(page)


def document_filters(docs: Sequence[Any], document: uuid.UUID | None, state: str | None) -> dict[str, Any]:
    """What a list filtered by document and state shows alike: the documents to choose (and their numbers), the
    filters as chosen, and its empty form."""
    return {
        "docs": docs,
        "numbers": {d.id: d.number for d in docs},
        "document": str(document or ""),
        "state": state or "",
        "form": {},
        "errors": {},
    }


"""The page's frame (`provide_frame`); the handler's parameter is named `frame`."""


async def page_for(request: Request[Any, Any, State], caller: Caller, unit: uuid.UUID | None = None) -> Page:
    """The page frame for a unit the caller covers (their own by default); another unit is refused (D4)."""
    db: Database = request.app.state.db
    async with db.read() as conn:
        viewer = await unit_in_scope(conn, caller, unit)
    return Page(caller, viewer, request.url.path)
