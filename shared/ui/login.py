"""Đăng nhập, đăng xuất, đổi mật khẩu: the same sessions as the API (`POST /api/v1/auth/login`), in the same cookie."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect

from shared.accounts.http import client_address, session_cookie
from shared.accounts.service import (
    MIN_PASSWORD,
    PASSWORD_CHANGE_OK,
    SESSION_COOKIE,
    change_password,
    end_sessions,
    sign_in,
    sign_out,
)
from shared.core.errors import Refusal
from shared.core.scope import Caller
from shared.db.engine import Database
from shared.settings import AuthSettings
from shared.ui.forms import GENERAL, Form
from shared.ui.web import LOGIN_PATH, PASSWORD_PATH, Page, render

SESSION_ENDED = (
    "Phiên làm việc đã kết thúc (quá lâu không thao tác, hết hạn, hoặc đã đăng xuất trên mọi máy). "
    "Hãy đăng nhập lại; những gì chưa bấm Lưu cần nhập lại."
)
_GONE = Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/")


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never send a person signing in to another address."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    return "/" if parts.scheme or parts.netloc else target


def _auth(request: Request[Any, Any, State]) -> AuthSettings:
    settings = request.app.state.get("settings")
    return settings.auth if settings is not None else AuthSettings()


@get(LOGIN_PATH, opt={"public": True}, sync_to_thread=False)
def login_form(next: FromQuery[str | None] = None, het_phien: FromQuery[bool] = False) -> Response[Any]:
    ended = SESSION_ENDED if het_phien else ""
    return render("login.html", None, next=_safe_next(next), form={}, errors={}, ended=ended)


@post(LOGIN_PATH, opt={"public": True}, status_code=303)
async def login(request: Request[Any, Any, State]) -> Response[Any]:
    form = await Form.posted(request)
    username = form.text("username", required="Nhập tên đăng nhập.")
    password = form.data.get("password")
    target = _safe_next(form.text("next"))
    if not isinstance(password, str) or not password:
        form.errors["password"] = "Nhập mật khẩu."
    status = 401
    if form.ok and isinstance(password, str):
        auth = _auth(request)
        try:
            result = await sign_in(request.app.state.db, username, password, client_address(request), auth)
        except Refusal as exc:
            form.errors[GENERAL] = exc.problem.message
            status = exc.status
        else:
            cookie = session_cookie(result.token, auth.session_hours)
            where = PASSWORD_PATH if result.must_change_password else target
            return Redirect(where, status_code=303, cookies=[cookie])
    return render("login.html", None, status_code=status, next=target, form=form.values, errors=form.errors)


@post("/dang-xuat", status_code=303, opt={"role": "viewer", PASSWORD_CHANGE_OK: True})
async def logout(request: Request[Any, Any, State]) -> Response[Any]:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await sign_out(request.app.state.db, token)
    return Redirect(LOGIN_PATH, status_code=303, cookies=[_GONE])


@post("/dang-xuat-moi-noi", status_code=303, opt={"role": "viewer", PASSWORD_CHANGE_OK: True})
async def logout_everywhere(request: Request[Any, Any, State], caller: NamedDependency[Caller]) -> Response[Any]:
    """Sign out on every computer and phone (a lost laptop, a password seen by someone)."""
    db: Database = request.app.state.db
    async with db.write() as conn:
        await end_sessions(conn, caller.user_id)
    return Redirect(LOGIN_PATH, status_code=303, cookies=[_GONE])


@get(PASSWORD_PATH, opt={"role": "viewer", PASSWORD_CHANGE_OK: True})
async def password_form(request: Request[Any, Any, State], caller: NamedDependency[Caller]) -> Response[Any]:
    return render(
        "password.html", Page(caller, caller.unit, request.url.path), form={}, errors={}, min_length=MIN_PASSWORD
    )


@post(PASSWORD_PATH, status_code=303, opt={"role": "viewer", PASSWORD_CHANGE_OK: True})
async def password_change(request: Request[Any, Any, State], caller: NamedDependency[Caller]) -> Response[Any]:
    form = await Form.posted(request)
    current, new, again = (form.data.get(n) for n in ("current_password", "new_password", "again"))
    if not isinstance(current, str) or not current:
        form.errors["current_password"] = "Nhập mật khẩu hiện tại (mật khẩu được cấp)."
    if not isinstance(new, str) or not new:
        form.errors["new_password"] = "Nhập mật khẩu mới."
    elif new != again:
        form.errors["again"] = "Hai lần nhập mật khẩu mới không giống nhau."
    if form.ok and isinstance(current, str) and isinstance(new, str):
        try:
            await change_password(request.app.state.db, caller, current, new, request.cookies.get(SESSION_COOKIE))
        except Refusal as exc:
            field = {"password": "new_password", None: GENERAL}.get(exc.problem.field, exc.problem.field)
            form.errors[field or GENERAL] = exc.problem.message
        else:
            return Redirect("/?doi-mat-khau=xong", status_code=303)
    page = Page(caller, caller.unit, request.url.path)
    return render("password.html", page, status_code=422, form={}, errors=form.errors, min_length=MIN_PASSWORD)


PAGES = (login_form, login, logout, logout_everywhere, password_form, password_change)
