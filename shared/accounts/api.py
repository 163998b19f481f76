"""Accounts under `/api/v1`: sign in and out, one's own password and sessions, and the admin's accounts (D27)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from shared.accounts.admin import add_account, edit_account, list_accounts, sign_out_account
from shared.accounts.http import auth_settings, client_address, session_cookie, token_of
from shared.accounts.service import (
    PASSWORD_CHANGE_OK,
    SESSION_COOKIE,
    Login,
    LoginResult,
    PasswordChange,
    User,
    UserCreate,
    UserUpdate,
    change_password,
    end_sessions,
    sign_in,
    sign_out,
)
from shared.api.resource import Api
from shared.core.scope import Caller


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]  # noqa: RUF012

    @post("/login", opt={"public": True}, status_code=200)
    async def login(self, request: Request[Any, Any, State], data: JSONBody[Login]) -> Response[LoginResult]:
        """Sign in with username and password; returns a bearer token and sets the session cookie.

        After repeated failures the answer is 429 `too_many_attempts` with the seconds to wait; when
        `must_change_password` is true every other route answers 403 `password_change_required` until
        POST /auth/password is done.
        """
        auth = auth_settings(request)
        result = await sign_in(request.app.state.db, data.username, data.password, client_address(request), auth)
        return Response(result, cookies=[session_cookie(result.token, auth.session_hours)])

    @post("/password", status_code=200, opt={"role": "viewer", PASSWORD_CHANGE_OK: True})
    async def password(
        self, request: Request[Any, Any, State], caller: NamedDependency[Caller], data: JSONBody[PasswordChange]
    ) -> dict[str, str]:
        """Change one's own password (at least 10 characters, not the username, not a common one); signs out the
        account's other sessions and ends the first-login requirement."""
        await change_password(request.app.state.db, caller, data.current_password, data.new_password, token_of(request))
        return {"status": "changed"}

    @post("/logout-all", status_code=200, opt={"role": "viewer", PASSWORD_CHANGE_OK: True})
    async def logout_all(self, api: NamedDependency[Api]) -> Response[dict[str, str]]:
        """Sign out everywhere: end every session of this account, this one included."""
        await api.write(lambda conn: end_sessions(conn, api.caller.user_id))
        return Response({"status": "signed_out"}, cookies=[Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/")])

    @post("/logout", status_code=200, opt={"role": "viewer", PASSWORD_CHANGE_OK: True})
    async def logout(self, request: Request[Any, Any, State], state: State) -> Response[dict[str, str]]:
        """End this session."""
        token = token_of(request)
        if token:
            await sign_out(state.db, token)
        return Response({"status": "signed_out"}, cookies=[Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/")])

    @get("/me", opt={PASSWORD_CHANGE_OK: True})
    async def me(self, caller: NamedDependency[Caller]) -> User:
        """The signed-in account, its unit and role."""
        return User(caller.user_id, caller.username, "", caller.unit.id, caller.unit.code, caller.role, True)


class UserController(Controller):
    path = "/users"
    tags = ["auth"]  # noqa: RUF012
    opt = {"role": "admin"}  # noqa: RUF012

    @get("/")
    async def list_users(self, api: NamedDependency[Api]) -> list[User]:
        """Accounts of units in the admin's subtree."""
        return await list_accounts(api.db, api.caller)

    @post("/")
    async def create(self, api: NamedDependency[Api], data: JSONBody[UserCreate]) -> User:
        """Create an account for a unit in the admin's subtree (D4, D27); it must change its password first."""
        return await add_account(api.db, api.caller, data)

    @patch("/{user_id:uuid}")
    async def edit(self, api: NamedDependency[Api], user_id: FromPath[uuid.UUID], data: JSONBody[UserUpdate]) -> User:
        """Change an account's role, name or password, or disable it; disabling ends its sessions."""
        return await edit_account(api.db, api.caller, user_id, data)

    @delete("/{user_id:uuid}/sessions", status_code=204)
    async def sign_out_everywhere(self, api: NamedDependency[Api], user_id: FromPath[uuid.UUID]) -> None:
        """End every session of an account (a lost laptop)."""
        await sign_out_account(api.db, api.caller, user_id)


ROUTES = (AuthController, UserController)
