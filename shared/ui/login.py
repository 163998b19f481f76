"""Đăng nhập, đăng xuất: the same sessions as the API (`POST /api/v1/auth/login`), kept in the same cookie."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie, State
from litestar.params import FromQuery
from litestar.response import Redirect

from shared.accounts.auth import SESSION_COOKIE, session_cookie, sign_in, sign_out
from shared.core.errors import Refusal
from shared.ui.forms import GENERAL, Form
from shared.ui.web import LOGIN_PATH, render


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never send a person signing in to another address."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    return "/" if parts.scheme or parts.netloc else target


@get(LOGIN_PATH, opt={"public": True}, sync_to_thread=False)
def login_form(next: FromQuery[str | None] = None) -> Response[Any]:
    return render("login.html", None, next=_safe_next(next), form={}, errors={})


@post(LOGIN_PATH, opt={"public": True}, status_code=303)
async def login(request: Request[Any, Any, State]) -> Response[Any]:
    form = Form(await request.form())
    username = form.text("username", required="Nhập tên đăng nhập.")
    password = form.data.get("password")
    target = _safe_next(form.text("next"))
    if not isinstance(password, str) or not password:
        form.errors["password"] = "Nhập mật khẩu."
    if form.ok and isinstance(password, str):
        try:
            result = await sign_in(request.app.state.db, username, password)
        except Refusal as exc:
            form.errors[GENERAL] = exc.problem.message
        else:
            return Redirect(target, status_code=303, cookies=[session_cookie(result.token)])
    return render("login.html", None, status_code=401, next=target, form=form.values, errors=form.errors)


@post("/dang-xuat", status_code=303, opt={"role": "viewer"})
async def logout(request: Request[Any, Any, State]) -> Response[Any]:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await sign_out(request.app.state.db, token)
    return Redirect(LOGIN_PATH, status_code=303, cookies=[Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/")])


PAGES = (login_form, login, logout)
