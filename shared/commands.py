"""CLI pieces both roles share: opening the data folder, running async work, and the parent's commands."""

from __future__ import annotations

import asyncio
import functools
import sys
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import insert, select

from shared.catalogue import build_registry
from shared.cli import data_option
from shared.db.engine import Database
from shared.db.migrate import upgrade
from shared.domain.formatting import format_date, format_moment
from shared.settings import Settings
from shared.sync.parent import Parent, SyncError
from shared.sync.tables import Identity, UnitRow

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

P = ParamSpec("P")
T = TypeVar("T")


def run_async(fn: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, T]:
    """Run an async click command; a refusal is printed in plain words and exits with status 1."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return asyncio.run(fn(*args, **kwargs))
        except SyncError as exc:
            err_console.print(f"[red]Lỗi:[/red] {exc.message_vi}\n[dim]{exc.message_en}[/dim]")
            sys.exit(1)

    return wrapper


def settings_for(data_dir: str, database_url: str | None = None, **overrides: Any) -> Settings:
    return Settings.load(data_dir=data_dir, **{"database.url": database_url, **overrides})


async def open_database(settings: Settings, *, migrate: bool = True) -> Database:
    db = Database(settings.database.url, echo=settings.database.echo)
    if migrate:
        await upgrade(db)
    return db


async def set_identity(db: Database, role: str, unit: uuid.UUID | None) -> None:
    """Record who this instance is; refuses to turn a node of one unit into another's."""
    async with db.write() as conn:
        held = (await conn.execute(select(Identity))).first()
        if held is None:
            await conn.execute(insert(Identity).values(id=1, role=role, unit=unit, created_at=datetime.now(UTC)))
            return
        if held.role != role or (held.unit is not None and unit is not None and held.unit != unit):
            raise SyncError(
                409,
                "identity_mismatch",
                "Thư mục dữ liệu này đã thuộc về một máy chủ/nút khác; hãy dùng một thư mục --data khác.",
                "This data folder already belongs to another instance; use another --data folder.",
            )


def with_parent(fn: Callable[..., Awaitable[T]]) -> Callable[..., T]:
    """Give a command the `Parent` of the instance in --data, opened and closed around it."""

    @data_option
    @click.option("--database-url", envvar="NQSYNC_DATABASE_URL", help="Database URL (default: SQLite in --data).")
    @functools.wraps(fn)
    def wrapper(data_dir: str, database_url: str | None, **kwargs: Any) -> T:
        async def go() -> T:
            settings = settings_for(data_dir, database_url)
            db = await open_database(settings)
            try:
                return await fn(Parent(db, build_registry(), settings.sync), **kwargs)
            finally:
                await db.dispose()

        return run_async(go)()

    return wrapper


async def unit_by_code(parent: Parent, code: str) -> uuid.UUID:
    async with parent.db.read() as conn:
        found = (
            await conn.execute(select(UnitRow.id).where(UnitRow.code == code, UnitRow.valid_to.is_(None)))
        ).scalar_one_or_none()
    if found is None:
        raise SyncError(404, "no_unit", f"Không có đơn vị mã “{code}”.", f"No unit with code {code!r}.")
    return found


def parent_commands(group: click.Group) -> None:
    """Add `enroll`, `nodes`, `revoke`, `rotate` and `collect-tombstones`: what any parent (the hub, a district node)
    does for its children."""

    @group.command("enroll")
    @click.argument("unit_code")
    @click.option("--hours", default=72, show_default=True, help="How long the code stays valid.")
    @with_parent
    async def enroll(parent: Parent, unit_code: str, hours: int) -> None:
        """Issue a one-time enrolment code for the node of UNIT_CODE (a unit below this one)."""
        code = await parent.issue_code(await unit_by_code(parent, unit_code), timedelta(hours=hours))
        expires = datetime.now(UTC) + timedelta(hours=hours)
        console.print(f"Mã đăng ký cho đơn vị {unit_code}: [bold]{code}[/bold]")
        console.print(f"Dùng một lần, hết hạn lúc {expires:%H:%M} ngày {format_date(expires.date())} (UTC).")
        console.print(f"Tại nút: nqsync node init --parent <địa chỉ máy chủ này> --code {code}")

    @group.command("nodes")
    @with_parent
    async def nodes(parent: Parent) -> None:
        """Sync health of every child node: last contact, push, pull, pending, refused, lag."""
        rows = await parent.nodes()
        table = Table(title="Các nút cấp dưới")
        for col in (
            "Đơn vị",
            "Nút",
            "Liên lạc gần nhất",
            "Gửi lên",
            "Nhận về",
            "Chờ gửi",
            "Bị từ chối",
            "Trễ",
            "Giao thức",
        ):
            table.add_column(col)
        for n in rows:
            table.add_row(
                f"{n['unit_code']} {n['unit_name']}",
                n["node_id"][:8] + (" (thu hồi)" if n["revoked"] else ""),
                when(n["last_contact"]),
                when(n["last_push"]),
                when(n["last_pull"]),
                str(n["pending_at_node"]),
                str(n["refused_last_push"]),
                str(n["behind_by"]),
                str(n["protocol"] or "—"),
            )
        console.print(table)
        console.print(f"{len(rows)} nút.")

    @group.command("revoke")
    @click.argument("node_id", type=click.UUID)
    @with_parent
    async def revoke(parent: Parent, node_id: uuid.UUID) -> None:
        """Revoke a node's credential at once; it must enrol again with a new code."""
        await parent.revoke(node_id)
        console.print(f"Đã thu hồi nút {node_id}.")

    @group.command("rotate")
    @click.argument("node_id", type=click.UUID)
    @with_parent
    async def rotate(parent: Parent, node_id: uuid.UUID) -> None:
        """Issue a new credential for a node (printed once); the old one stops working."""
        console.print(await parent.rotate(node_id))

    @group.command("collect-tombstones")
    @with_parent
    async def collect_tombstones(parent: Parent) -> None:
        """Drop deleted records' tombstones once every child node that should see them has acknowledged them."""
        done = await parent.collect_tombstones()
        for name, count in sorted(done.dropped.items()):
            console.print(f"{name}: {count}")
        console.print(f"Đã dọn {done.total} bản ghi đã xóa mà mọi nút cấp dưới cần biết đều đã nhận.")


def when(moment: object) -> str:
    """A stored instant for display, or "chưa" (not yet)."""
    return format_moment(moment) if isinstance(moment, datetime) else "chưa"


def backup_commands(group: click.Group, role: str) -> None:
    """Add `backup` and `restore` to `nqsync server` (role "hub") or `nqsync node` (role "node")."""
    url_option = click.option(
        "--database-url", envvar="NQSYNC_DATABASE_URL", help="postgresql+asyncpg://... (default: SQLite in --data)."
    )

    def options(fn: Callable[..., Any]) -> Callable[..., Any]:
        return data_option(url_option(fn) if role == "hub" else fn)

    @group.command("backup")
    @click.option("--to", "target", required=True, type=click.Path(dir_okay=False), help="The backup file to write.")
    @options
    @run_async
    async def backup(data_dir: str, target: str, database_url: str | None = None) -> None:
        """Write a consistent backup of this instance's database to FILE (safe while it is serving)."""
        from shared.backup import ROLE_VI
        from shared.backup import backup as take

        started = datetime.now(UTC)
        header, size = await take(settings_for(data_dir, database_url), role, Path(target))
        seconds = (datetime.now(UTC) - started).total_seconds()
        console.print(
            f"Đã sao lưu vào {target} ({size / 1e6:.1f} MB, {seconds:.1f} giây): {ROLE_VI[role]}"
            f"{' ' + header.unit_code if header.unit_code else ''}, lược đồ {header.revision}, {header.head} thay đổi."
        )

    @group.command("restore")
    @click.argument("source", type=click.Path(exists=True, dir_okay=False))
    @click.option("--force", is_flag=True, help="Replace a database that already holds data.")
    @options
    @run_async
    async def restore(data_dir: str, source: str, force: bool, database_url: str | None = None) -> None:
        """Restore this instance's database from a backup FILE (stop the nqsync services first)."""
        from shared.backup import restore as load

        header = await load(settings_for(data_dir, database_url), role, Path(source), force=force)
        console.print(
            f"Đã khôi phục từ bản sao lưu lúc {header.taken_at} (lược đồ {header.revision}) và nâng cấp lên lược "
            "đồ mới nhất. Các nút cấp dưới sẽ tự đối chiếu ở lần đồng bộ tới và gửi lại những gì cấp này thiếu."
        )
        console.print(f"Khởi động lại dịch vụ: nqsync {'server' if role == 'hub' else 'node'} serve")
