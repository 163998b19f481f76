"""`user-add` and `users` for `nqsync server` and `nqsync node`: the first admin account, and who can sign in."""

from __future__ import annotations

import sys

import click
from rich.table import Table
from sqlalchemy import select

from shared.accounts.records import ROLE_LABELS_VI, ROLES, UserRow
from shared.cli import data_option
from shared.commands import console, err_console, open_database, run_async, settings_for
from shared.sync.tables import Identity, UnitRow


def user_commands(group: click.Group) -> None:
    """Add `user-add` and `users` to a role's command group (accounts are local to each instance)."""

    @group.command("user-add")
    @data_option
    @click.option("--database-url", envvar="NQSYNC_DATABASE_URL", help="Database URL (default: SQLite in --data).")
    @click.option("--unit", "unit_code", required=True, help="Code of the account's unit (this instance's or below).")
    @click.option("--role", type=click.Choice(ROLES), required=True, help="viewer, editor or admin (secretary).")
    @click.option("--username", required=True)
    @click.option("--full-name", default="", help="Shown beside the username.")
    @click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
    @run_async
    async def user_add(
        data_dir: str,
        database_url: str | None,
        unit_code: str,
        role: str,
        username: str,
        full_name: str,
        password_stdin: bool,
    ) -> None:
        """Create a sign-in account for a unit (the first admin, then more from the web)."""
        # Imported here: the API's modules are heavy, and every other command of the group starts without them.
        from shared.accounts.service import check_new_user, create_user, hash_password
        from shared.audit.actor import acting, cli_actor
        from shared.audit.hook import log_account
        from shared.core.errors import Refusal
        from shared.core.scope import unit_info

        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = click.prompt("Mật khẩu / Password", hide_input=True, confirmation_prompt=True)
        db = await open_database(settings_for(data_dir, database_url))
        try:
            check_new_user(username, role, password)
            password_hash = hash_password(password)
            async with db.write() as conn:
                unit_id = (
                    await conn.execute(select(UnitRow.id).where(UnitRow.code == unit_code, UnitRow.valid_to.is_(None)))
                ).scalar_one_or_none()
                unit = None if unit_id is None else await unit_info(conn, unit_id)
                if unit is None:
                    raise Refusal(404, "no_unit", f"Không có đơn vị mã «{unit_code}».", f"No unit {unit_code!r}.")
                mine = (await conn.execute(select(Identity.unit))).scalar_one_or_none()
                here = None if mine is None else await unit_info(conn, mine)
                if here is not None and not here.covers(unit):
                    raise Refusal(
                        403,
                        "out_of_scope",
                        f"Đơn vị {unit_code} không thuộc phạm vi của nút này ({here.code}).",
                        f"Unit {unit_code} is not served by this node ({here.code}).",
                    )
                # Whoever typed this password for the account's owner knows it: the owner changes it at first sign-in.
                user_id = await create_user(
                    conn,
                    username=username,
                    unit=unit.id,
                    role=role,
                    password_hash=password_hash,
                    full_name=full_name,
                    must_change_password=True,
                )
                with acting(cli_actor()):  # D27: the account's creation is in the audit trail
                    values = {"username": username, "full_name": full_name, "unit": unit.id, "role": role}
                    await log_account(conn, user_id, values)
        except Refusal as exc:
            err_console.print(f"[red]Lỗi:[/red] {exc.problem.message}\n[dim]{exc.problem.message_en}[/dim]")
            sys.exit(1)
        finally:
            await db.dispose()
        console.print(f"Đã tạo tài khoản [bold]{username}[/bold] ({ROLE_LABELS_VI[role]}) cho đơn vị {unit.name}.")
        console.print("Lần đăng nhập đầu tiên, người dùng phải đổi mật khẩu này.")

    @group.command("users")
    @data_option
    @click.option("--database-url", envvar="NQSYNC_DATABASE_URL", help="Database URL (default: SQLite in --data).")
    @run_async
    async def users(data_dir: str, database_url: str | None) -> None:
        """List the accounts of this instance."""
        db = await open_database(settings_for(data_dir, database_url))
        try:
            async with db.read() as conn:
                rows = (
                    await conn.execute(
                        select(UserRow.username, UserRow.full_name, UserRow.role, UserRow.active, UnitRow.code)
                        .join(UnitRow, UnitRow.id == UserRow.unit)
                        .order_by(UserRow.username)
                    )
                ).all()
        finally:
            await db.dispose()
        table = Table(title="Tài khoản")
        for column in ("Tên đăng nhập", "Họ tên", "Đơn vị", "Vai trò", "Trạng thái"):
            table.add_column(column)
        for r in rows:
            table.add_row(r.username, r.full_name, r.code, ROLE_LABELS_VI[r.role], "hoạt động" if r.active else "khóa")
        console.print(table)
        console.print(f"{len(rows)} tài khoản.")
