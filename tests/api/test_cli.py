"""D27: the first admin account is made from the command line, on the hub or on a node."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click
from click.testing import CliRunner

from shared.accounts.cli import user_commands
from shared.accounts.service import verify_password
from shared.db.engine import Database
from shared.db.migrate import upgrade
from shared.settings import sqlite_url
from tests.domain_harness import make_units, seed


def test_d27_user_add_creates_an_account_for_a_unit_and_refuses_bad_input(tmp_path: Path) -> None:
    units = make_units()

    async def prepare() -> None:
        db = Database(sqlite_url(tmp_path / "nqsync.sqlite3"))
        await upgrade(db)
        await seed(db, units)
        await db.dispose()

    asyncio.run(prepare())
    group = click.Group("server")
    user_commands(group)
    runner = CliRunner()
    args = ["user-add", "--data", str(tmp_path), "--unit", "TU", "--role", "admin", "--username", "bithu"]
    ok = runner.invoke(group, [*args, "--password-stdin"], input="mot-mat-khau-dai\n")
    assert ok.exit_code == 0, ok.output
    assert "bithu" in ok.output
    again = runner.invoke(group, [*args, "--password-stdin"], input="mot-mat-khau-dai\n")
    assert again.exit_code == 1
    assert "đã có người dùng" in again.output
    short = runner.invoke(group, [*args[:-1], "other", "--password-stdin"], input="ngan\n")
    assert short.exit_code == 1
    unknown = runner.invoke(group, [*args[:4], "XX", *args[5:-1], "x2", "--password-stdin"], input="mot-mat-khau-dai\n")
    assert unknown.exit_code == 1
    listed = runner.invoke(group, ["users", "--data", str(tmp_path)])
    assert "bithu" in listed.output
    assert "1 tài khoản" in listed.output

    assert "phải đổi mật khẩu" in ok.output

    async def stored() -> tuple[str, bool]:
        from sqlalchemy import select

        from shared.accounts.records import UserRow

        db = Database(sqlite_url(tmp_path / "nqsync.sqlite3"))
        async with db.read() as conn:
            row = (await conn.execute(select(UserRow.password_hash, UserRow.must_change_password))).one()
        await db.dispose()
        return str(row[0]), bool(row[1])

    value, must_change = asyncio.run(stored())
    assert verify_password(value, "mot-mat-khau-dai"), "stored as an argon2 hash"
    assert must_change, "whoever ran user-add knows the password: the owner changes it at first sign-in"
