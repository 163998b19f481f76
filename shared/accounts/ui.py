"""Tài khoản and Nút cấp dưới (admins): who may sign in here and with which role, and the child nodes that sync
with this instance (D4, D27). The pages call the same functions as the API (`/users`) and the CLI
(`enroll`, `nodes`, `revoke`, `rotate`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import select

from shared.accounts.admin import add_account, edit_account, list_accounts, sign_out_account
from shared.accounts.records import ROLES
from shared.accounts.service import UserCreate, UserUpdate
from shared.core.errors import Refusal, forbidden_scope
from shared.core.scope import Caller, UnitInfo, unit_info
from shared.db.engine import Database
from shared.sync.parent import Parent, SyncError
from shared.sync.tables import UnitRow
from shared.ui.forms import GENERAL, Form
from shared.ui.sync import sync_health
from shared.ui.web import ROLE_LABELS_VI, Page, render

ADMIN = {"role": "admin"}
ACCOUNTS = "/tai-khoan"
NODES = "/nut-cap-duoi"
CODE_HOURS = 72
ROLE_OPTIONS = [(r, ROLE_LABELS_VI[r]) for r in ROLES]
DONE = {
    "them": "Đã tạo tài khoản; lần đăng nhập đầu, người dùng phải đổi mật khẩu được cấp.",
    "vai-tro": "Đã đổi vai trò.",
    "khoa": "Đã khóa tài khoản và đăng xuất mọi phiên của tài khoản đó.",
    "mo-khoa": "Đã mở khóa tài khoản.",
    "mat-khau": "Đã đặt lại mật khẩu; người dùng phải đổi mật khẩu này khi đăng nhập.",
    "dang-xuat": "Đã đăng xuất tài khoản trên mọi máy.",
    "thu-hoi": "Đã thu hồi nút: nút đó không đồng bộ được nữa cho đến khi đăng ký lại bằng mã mới.",
}


async def _unit_by_code(db: Database, caller: Caller, code: str) -> UnitInfo | None:
    """A live unit of the caller's subtree by its code; None when there is none."""
    async with db.read() as conn:
        found = (
            await conn.execute(select(UnitRow.id).where(UnitRow.code == code, UnitRow.valid_to.is_(None)))
        ).scalar_one_or_none()
        unit = None if found is None else await unit_info(conn, found)
    return unit if unit is not None and caller.unit.covers(unit) else None


async def _accounts_page(
    request: Request[Any, Any, State],
    caller: Caller,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    row_errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response[Any]:
    accounts = await list_accounts(request.app.state.db, caller)
    done = DONE.get(request.query_params.get("xong", ""), "")
    return render(
        "accounts.html",
        Page(caller, caller.unit, ACCOUNTS),
        status_code=status,
        accounts=accounts,
        roles=ROLE_OPTIONS,
        form=form or {"unit": caller.unit.code, "role": "editor"},
        errors=errors or {},
        row_errors=row_errors or {},
        done=done,
    )


@get(ACCOUNTS, opt=ADMIN)
async def accounts_page(request: Request[Any, Any, State], caller: NamedDependency[Caller]) -> Response[Any]:
    return await _accounts_page(request, caller)


@post(f"{ACCOUNTS}/them", opt=ADMIN, status_code=303)
async def add_account_form(request: Request[Any, Any, State], caller: NamedDependency[Caller]) -> Response[Any]:
    form = await Form.posted(request)
    username = form.text("username", required="Nhập tên đăng nhập (không dấu cách), ví dụ vanphong.h1.")
    full_name = form.text("full_name")
    code = form.text("unit", required="Nhập mã đơn vị của tài khoản.")
    role = form.choice("role", ROLES, message="Chọn vai trò.")
    password = form.data.get("password")
    if not isinstance(password, str) or not password:
        form.errors["password"] = "Nhập mật khẩu ban đầu (người dùng sẽ đổi khi đăng nhập lần đầu)."
    db: Database = request.app.state.db
    unit = await _unit_by_code(db, caller, code) if code else None
    if code and unit is None:
        form.errors["unit"] = f"Không có đơn vị mã «{code}» trong phạm vi của bạn."
    if form.ok and unit is not None and isinstance(password, str):
        try:
            await add_account(db, caller, UserCreate(username, password, role, unit.id, full_name))
        except Refusal as exc:
            form.errors[exc.problem.field or GENERAL] = exc.problem.message
        else:
            return Redirect(f"{ACCOUNTS}?xong=them", status_code=303)
    return await _accounts_page(request, caller, form=form.values, errors=form.errors, status=422)


@dataclass(frozen=True, slots=True)
class _OnAccount:
    """An admin's action on one account (`/tai-khoan/{user_id}/…`): who acts, and on which account."""

    request: Request[Any, Any, State]
    caller: NamedDependency[Caller]
    user_id: FromPath[uuid.UUID]

    async def change(self, change: UserUpdate, done: str) -> Response[Any]:
        try:
            await edit_account(self.request.app.state.db, self.caller, self.user_id, change)
        except Refusal as exc:
            if exc.status in (403, 404):
                raise
            return await self.refused(exc.problem.message)
        return Redirect(f"{ACCOUNTS}?xong={done}", status_code=303)

    async def refused(self, message: str) -> Response[Any]:
        """The accounts page again (422), with the problem on the account's row."""
        return await _accounts_page(self.request, self.caller, row_errors={str(self.user_id): message}, status=422)


ON_ACCOUNT = {"account": Provide(_OnAccount, sync_to_thread=False)}
OnAccount: TypeAlias = NamedDependency[_OnAccount]


@post(f"{ACCOUNTS}/{{user_id:uuid}}/vai-tro", opt=ADMIN, status_code=303, dependencies=ON_ACCOUNT)
async def change_role(account: OnAccount) -> Response[Any]:
    role = (await account.request.form()).get("role")
    return await account.change(UserUpdate(role=str(role or "")), "vai-tro")


@post(f"{ACCOUNTS}/{{user_id:uuid}}/khoa", opt=ADMIN, status_code=303, dependencies=ON_ACCOUNT)
async def disable(account: OnAccount) -> Response[Any]:
    if account.user_id == account.caller.user_id:
        return await account.refused("Không thể tự khóa tài khoản đang dùng.")
    return await account.change(UserUpdate(active=False), "khoa")


@post(f"{ACCOUNTS}/{{user_id:uuid}}/mo-khoa", opt=ADMIN, status_code=303, dependencies=ON_ACCOUNT)
async def enable(account: OnAccount) -> Response[Any]:
    return await account.change(UserUpdate(active=True), "mo-khoa")


@post(f"{ACCOUNTS}/{{user_id:uuid}}/mat-khau", opt=ADMIN, status_code=303, dependencies=ON_ACCOUNT)
async def reset_password(account: OnAccount) -> Response[Any]:
    password = (await account.request.form()).get("password")
    if not isinstance(password, str) or not password:
        return await account.refused("Nhập mật khẩu mới để đặt lại.")
    return await account.change(UserUpdate(password=password), "mat-khau")


@post(f"{ACCOUNTS}/{{user_id:uuid}}/dang-xuat", opt=ADMIN, status_code=303, dependencies=ON_ACCOUNT)
async def sign_out_user(account: OnAccount) -> Response[Any]:
    await sign_out_account(account.request.app.state.db, account.caller, account.user_id)
    return Redirect(f"{ACCOUNTS}?xong=dang-xuat", status_code=303)


# Child nodes.


async def _nodes_page(
    request: Request[Any, Any, State],
    caller: Caller,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    issued: dict[str, Any] | None = None,
    status: int = 200,
) -> Response[Any]:
    state = request.app.state
    health = await sync_health(state.db, state.parent, caller)
    return render(
        "nodes.html",
        Page(caller, caller.unit, NODES),
        status_code=status,
        nodes=health.children or [],
        form=form or {"hours": str(CODE_HOURS)},
        errors=errors or {},
        issued=issued,
        done=DONE.get(request.query_params.get("xong", ""), ""),
    )


@get(NODES, opt=ADMIN)
async def nodes_page(request: Request[Any, Any, State], caller: NamedDependency[Caller]) -> Response[Any]:
    return await _nodes_page(request, caller)


@post(f"{NODES}/ma", opt=ADMIN, status_code=200)
async def issue_code(request: Request[Any, Any, State], caller: NamedDependency[Caller]) -> Response[Any]:
    """A one-time enrolment code for a unit below: shown once, with its expiry."""
    form = await Form.posted(request)
    code = form.text("unit", required="Nhập mã đơn vị cấp dưới sẽ đặt nút, ví dụ H1B1.")
    hours = form.number("hours", label="Thời hạn (giờ)")
    if hours is not None and not 1 <= hours <= 24 * 30:
        form.errors["hours"] = "Thời hạn từ 1 đến 720 giờ (30 ngày)."
    db: Database = request.app.state.db
    unit = await _unit_by_code(db, caller, code) if code else None
    if code and unit is None:
        form.errors["unit"] = f"Không có đơn vị mã «{code}» trong phạm vi của bạn."
    if form.ok and unit is not None and hours is not None:
        parent: Parent = request.app.state.parent
        try:
            secret = await parent.issue_code(unit.id, timedelta(hours=hours))
        except SyncError as exc:
            form.errors["unit"] = exc.message_vi
        else:
            issued = {"code": secret, "unit": unit, "expires": datetime.now(UTC) + timedelta(hours=hours)}
            return await _nodes_page(request, caller, issued=issued)
    return await _nodes_page(request, caller, form=form.values, errors=form.errors, status=422)


async def _node_in_scope(request: Request[Any, Any, State], caller: Caller, node_id: uuid.UUID) -> dict[str, Any]:
    state = request.app.state
    health = await sync_health(state.db, state.parent, caller)
    for node in health.children or []:
        if node["node_id"] == str(node_id):
            return node
    raise forbidden_scope()


@post(f"{NODES}/{{node_id:uuid}}/thu-hoi", opt=ADMIN, status_code=303)
async def revoke_node(
    request: Request[Any, Any, State], caller: NamedDependency[Caller], node_id: FromPath[uuid.UUID]
) -> Response[Any]:
    await _node_in_scope(request, caller, node_id)
    parent: Parent = request.app.state.parent
    await parent.revoke(node_id)
    return Redirect(f"{NODES}?xong=thu-hoi", status_code=303)


@post(f"{NODES}/{{node_id:uuid}}/doi-khoa", opt=ADMIN, status_code=200)
async def rotate_node(
    request: Request[Any, Any, State], caller: NamedDependency[Caller], node_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """A new credential for a node, shown once; the old one stops working at once."""
    node = await _node_in_scope(request, caller, node_id)
    parent: Parent = request.app.state.parent
    try:
        credential = await parent.rotate(node_id)
    except SyncError as exc:
        return await _nodes_page(request, caller, errors={GENERAL: exc.message_vi}, status=422)
    return await _nodes_page(request, caller, issued={"credential": credential, "node": node})


PAGES = (
    accounts_page,
    add_account_form,
    change_role,
    disable,
    enable,
    reset_password,
    sign_out_user,
    nodes_page,
    issue_code,
    revoke_node,
    rotate_node,
)

__all__ = ["PAGES"]
