"""`nqsync server ...`: the provincial hub."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import click
import uvicorn

from shared.accounts.cli import user_commands
from shared.cli import data_option
from shared.commands import (
    backup_commands,
    console,
    err_console,
    open_database,
    parent_commands,
    run_async,
    set_identity,
    settings_for,
)
from shared.doctor import check_command
from shared.settings import Settings


@click.group()
def server() -> None:
    """The provincial hub: holds the whole province, enrols nodes, consolidates reports."""


@server.command("init")
@data_option
@click.option(
    "--database-url", envvar="NQSYNC_DATABASE_URL", help="postgresql+asyncpg://... (default: SQLite in --data)."
)
@click.option(
    "--units", "units_file", type=click.Path(exists=True, dir_okay=False), help="Unit tree to import (.xlsx/.csv)."
)
@click.option(
    "--valid-from",
    type=click.DateTime(["%d/%m/%Y"]),
    default=None,
    help="Date (dd/mm/yyyy) the imported units take effect when the file leaves it empty; default today.",
)
@run_async
async def init(data_dir: str, database_url: str | None, units_file: str | None, valid_from: datetime | None) -> None:
    """Create or upgrade the hub's database, optionally importing the unit tree."""
    settings = settings_for(data_dir, database_url)
    db = await open_database(settings)
    try:
        await set_identity(db, "hub", None)
        console.print(f"Cơ sở dữ liệu sẵn sàng: {_redact(settings.database.url)}")
        if units_file:
            from shared.tree_files import ImportRejected
            from shared.tree_import import import_units

            try:
                summary = await import_units(
                    db, Path(units_file), default_valid_from=(valid_from or datetime.now()).date()
                )
            except ImportRejected as exc:
                err_console.print(f"[red]Không nhập được danh sách đơn vị; chưa có gì được ghi:[/red]\n{exc}")
                raise SystemExit(1) from None
            console.print(
                f"Đã nhập cây đơn vị: {summary.created} đơn vị mới, {summary.updated} cập nhật, "
                f"{summary.unchanged} không đổi."
            )
    finally:
        await db.dispose()


@server.command("serve")
@data_option
@click.option(
    "--database-url", envvar="NQSYNC_DATABASE_URL", help="postgresql+asyncpg://... (default: SQLite in --data)."
)
@click.option("--host", default="127.0.0.1", show_default=True, envvar="NQSYNC_HOST")
@click.option("--port", default=8000, show_default=True, envvar="NQSYNC_PORT", type=int)
@click.option(
    "--workers", default=1, show_default=True, type=int, envvar="NQSYNC_WORKERS", help="Processes (PostgreSQL only)."
)
def serve(data_dir: str, database_url: str | None, host: str, port: int, workers: int) -> None:
    """Serve the hub's web UI, API and sync endpoints; SIGTERM lets requests in flight finish, then exits 0."""
    settings = settings_for(data_dir, database_url)
    run_async(_migrate)(settings)  # once, before the workers start
    os.environ["NQSYNC_DATA_DIR"] = str(settings.data_dir)
    os.environ["NQSYNC_DATABASE_URL"] = settings.database.url
    console.print(f"Máy chủ tỉnh đang chạy tại http://{host}:{port} (Ctrl+C để dừng)")
    from shared.serving import GracefulServer, uvicorn_options

    options = uvicorn_options(settings.http)
    if workers > 1:
        # uvicorn's supervisor passes SIGTERM on to its workers, waits for them and returns.
        uvicorn.run("server.app:from_env", factory=True, host=host, port=port, workers=workers, **options)
        return
    hub = GracefulServer(uvicorn.Config("server.app:from_env", factory=True, host=host, port=port, **options))
    hub.run()
    if not hub.started:
        raise SystemExit(3)  # uvicorn's own status for a server that never started (port taken, app failed)


async def _migrate(settings: Settings) -> None:
    db = await open_database(settings)
    await db.dispose()


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


parent_commands(server)
backup_commands(server, "hub")
check_command(server, "hub")


@server.command("worker")
@data_option
@click.option(
    "--database-url", envvar="NQSYNC_DATABASE_URL", help="postgresql+asyncpg://... (default: SQLite in --data)."
)
@click.option("--redis-url", envvar="NQSYNC_REDIS_URL", required=True, help="redis://host:6379/0 (arq's queue).")
@click.option("--burst", is_flag=True, help="Run the queued jobs, then exit.")
def worker(data_dir: str, database_url: str | None, redis_url: str, burst: bool) -> None:
    """Run the background jobs on arq: consolidation, report rendering, daily calendar refresh and reminders."""
    import asyncio

    from arq import Worker

    from server.jobs import worker_settings

    settings = settings_for(data_dir, database_url, **{"redis.url": redis_url})

    async def main() -> None:
        # Built inside the running loop (arq's Worker binds to the loop it is created in).
        w = Worker(**worker_settings(settings), burst=burst, handle_signals=not burst)
        try:
            await w.main()
        finally:
            await w.close()

    console.print(f"Tiến trình xử lý nền đang chạy (hàng đợi {redis_url}); Ctrl+C để dừng.")
    asyncio.run(main())


user_commands(server)
