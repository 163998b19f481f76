"""`nqsync node ...`: a district or base node."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path

import click
import uvicorn
from rich.progress import BarColumn, Progress, TaskID, TextColumn
from rich.table import Table
from sqlalchemy import func, insert, select

from shared.accounts.cli import user_commands
from shared.catalogue import build_registry
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
    when,
)
from shared.db.engine import Database
from shared.doctor import check_command
from shared.settings import Settings
from shared.sync import store
from shared.sync.agent import run_forever, sync_once, upstreams
from shared.sync.client import RoundReport, SyncFailed, enrol
from shared.sync.tables import Identity, Rejection, UnitRow, Upstream
from shared.sync.tls import check_bundle, check_parent_url, keep_bundle


@click.group()
def node() -> None:
    """A district or base node: works offline, syncs with its parent, serves its own children."""


@node.command("init")
@data_option
@click.option("--parent", "parent_url", required=True, help="The parent's address, e.g. https://tinhuy.example.vn")
@click.option("--code", required=True, help="The one-time enrolment code the parent issued for this unit.")
@click.option("--label", default="", help="A name for this machine, shown at the parent.")
@click.option("--priority", default=0, show_default=True, help="Lower is tried first (a fallback parent: 10).")
@click.option(
    "--ca-bundle",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="PEM file of the province's CA, trusted for parents besides public CAs; kept in the data folder.",
)
@click.option("--allow-insecure-http", is_flag=True, help="Allow a plain http:// parent that is not this machine.")
@run_async
async def init(
    data_dir: str,
    parent_url: str,
    code: str,
    label: str,
    priority: int,
    ca_bundle: Path | None,
    allow_insecure_http: bool,
) -> None:
    """Enrol this node with a parent (or add another parent, e.g. the hub as a fallback) and run a first sync."""
    try:
        warning = check_parent_url(parent_url, allow_insecure_http=allow_insecure_http)
        bundle = check_bundle(ca_bundle) if ca_bundle else None
    except ValueError as exc:
        err_console.print(f"[red]Không đăng ký được:[/red] {exc}")
        raise SystemExit(2) from None
    if warning:
        err_console.print(f"[yellow]{warning}[/yellow]")
    settings = settings_for(data_dir)
    db = await open_database(settings)
    try:
        try:
            reply = await enrol(
                parent_url, code, label, ca_bundle=str(ca_bundle) if ca_bundle else settings.sync.ca_bundle
            )
        except SyncFailed as exc:
            _fail(exc)
        if bundle is not None:
            # Kept once it proved right, so that `sync` and `serve` later trust the same CAs without the flag.
            kept = keep_bundle(settings.data_dir, bundle)
            settings = settings.with_overrides(**{"sync.ca_bundle": str(kept)})
        await set_identity(db, "node", reply.unit)
        async with db.write() as conn:
            await conn.execute(
                insert(Upstream).values(
                    url=parent_url.rstrip("/"),
                    priority=priority,
                    credential=reply.credential,
                    parent_unit=reply.parent_unit,
                    pull_cursor=0,
                    push_cursor=0,
                    scope="",
                    failures=0,
                )
            )
        console.print(f"Đã đăng ký nút cho đơn vị [bold]{reply.unit_code} — {reply.unit_name}[/bold].")
        await _sync_with_progress(db, settings, via=parent_url.rstrip("/"))
    finally:
        await db.dispose()


@node.command("sync")
@data_option
@click.option("--via", default=None, help="Sync only with this upstream address.")
@run_async
async def sync(data_dir: str, via: str | None) -> None:
    """Run one round (push, then pull) with progress and a summary; exits non-zero if it failed."""
    settings = settings_for(data_dir)
    db = await open_database(settings)
    try:
        await _sync_with_progress(db, settings, via=via)
    finally:
        await db.dispose()


@node.command("verify")
@data_option
@run_async
async def verify(data_dir: str) -> None:
    """Compare digests with the parent and repair any difference."""
    settings = settings_for(data_dir)
    db = await open_database(settings)
    try:
        await _sync_with_progress(db, settings, via=None, verify=True)
    finally:
        await db.dispose()


@node.command("serve")
@data_option
@click.option("--host", default="127.0.0.1", show_default=True, envvar="NQSYNC_HOST")
@click.option("--port", default=8100, show_default=True, envvar="NQSYNC_PORT", type=int)
@click.option("--interval", default=None, type=float, help="Seconds between sync rounds (default 180).")
@click.option("--open", "open_browser", is_flag=True, help="Open the node's page in the browser once it answers.")
@run_async
async def serve(data_dir: str, host: str, port: int, interval: float | None, open_browser: bool) -> None:
    """Serve this node's web UI and its children's sync endpoints, and sync with the parent periodically."""
    from node.app import create_app

    settings = settings_for(data_dir, None, **{"sync.interval_seconds": interval})
    db = await open_database(settings)
    stop = asyncio.Event()
    _stop_on_signals(stop)
    from shared.serving import freeze_after_startup, uvicorn_options

    app = freeze_after_startup(create_app(settings))
    server = _Server(uvicorn.Config(app, host=host, port=port, **uvicorn_options(settings.http)))
    console.print(f"Nút đang chạy tại http://{host}:{port}; đồng bộ mỗi {settings.sync.interval_seconds:g} giây.")
    syncing = asyncio.create_task(run_forever(db, build_registry(), settings.sync, stop))
    serving = asyncio.create_task(server.serve())
    opening = asyncio.create_task(_open_when_up(host, port, serving)) if open_browser else None
    await stop.wait()
    if opening is not None:
        opening.cancel()
    # In the journal: why a stop can take up to a round (systemd waits TimeoutStopSec for it).
    console.print("Đang dừng: làm nốt vòng đồng bộ và các yêu cầu đang chạy…")
    server.should_exit = True
    with contextlib.suppress(Exception):
        await asyncio.gather(syncing, serving)
    await db.dispose()
    console.print("Nút đã dừng.")


@node.command("status")
@data_option
@run_async
async def status(data_dir: str) -> None:
    """This node's unit, its upstreams with cursors and last results, rows waiting to be pushed, refusals."""
    settings = settings_for(data_dir)
    db = await open_database(settings)
    try:
        async with db.read() as conn:
            unit = (await conn.execute(select(Identity.unit))).scalar_one_or_none()
            me = (await conn.execute(select(UnitRow.code, UnitRow.name).where(UnitRow.id == unit))).first()
            head = await store.head(conn)
            refusals = (await conn.execute(select(Rejection).order_by(Rejection.at))).all()
            units = (await conn.execute(select(func.count()).select_from(UnitRow))).scalar_one()
        console.print(f"Đơn vị: [bold]{me.code + ' — ' + me.name if me else 'chưa có dữ liệu'}[/bold]")
        console.print(f"Sổ ghi cục bộ: {head} thay đổi; {units} đơn vị trong phạm vi.")
        table = Table(title="Cấp trên")
        for col in ("Địa chỉ", "Đã gửi đến", "Đã nhận đến", "Gửi gần nhất", "Nhận gần nhất", "Lỗi gần nhất"):
            table.add_column(col)
        for up in await upstreams(db):
            table.add_row(
                up.url,
                f"{up.push_cursor} (còn {max(head - up.push_cursor, 0)})",
                str(up.pull_cursor),
                when(up.last_push),
                when(up.last_pull),
                up.last_error or "—",
            )
        console.print(table)
        if refusals:
            console.print(f"[red]{len(refusals)} bản ghi bị cấp trên từ chối[/red] (sửa rồi đồng bộ lại):")
            for r in refusals:
                console.print(f"  • {r.type} {r.record_id}: {r.reason}")
        else:
            console.print("Không có bản ghi nào bị từ chối.")
    finally:
        await db.dispose()


async def _sync_with_progress(db: Database, settings: Settings, *, via: str | None, verify: bool = False) -> None:
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed} bản ghi"), console=console
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(step: str, done: int, total: int) -> None:
            label = {"push": "Gửi lên", "pull": "Nhận về"}.get(step, step)
            if step not in tasks:
                tasks[step] = bar.add_task(label, total=total or None)
            bar.update(tasks[step], completed=done, total=total or None)

        try:
            url, report = await sync_once(
                db, build_registry(), settings.sync, via=via, verify=verify, progress=progress
            )
        except SyncFailed as exc:
            _fail(exc)
    _summary(url, report)


async def _open_when_up(host: str, port: int, serving: asyncio.Task[None]) -> None:
    """Open the node's page in the browser once /health answers (`serve --open`, the office laptop's shortcut)."""
    import webbrowser

    import httpx

    # A node listening on every address is still reached from this machine on loopback.
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::', '') else host}:{port}/"
    async with httpx.AsyncClient(timeout=2) as client:
        while not serving.done():
            try:
                if (await client.get(url + "health")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
        else:
            return  # the web server stopped before it answered: nothing to open
    # webbrowser may start a program and wait for it: off the event loop.
    if not await asyncio.to_thread(webbrowser.open, url):
        console.print(f"Không mở được trình duyệt; hãy mở {url} bằng tay.")


def _stop_on_signals(stop: asyncio.Event) -> None:
    """SIGTERM (systemd) or Ctrl+C sets `stop`: the running round and requests finish, then `serve` returns."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            # Windows' event loops have no add_signal_handler; the handler runs between bytecodes of the main
            # thread, so it hands the event to the loop rather than setting it itself.
            signal.signal(sig, lambda _sig, _frame: loop.call_soon_threadsafe(stop.set))


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: `serve` stops the web server and the sync loop together."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _summary(url: str, report: RoundReport) -> None:
    console.print(
        f"Đồng bộ xong với {url}: gửi lên {report.pushed} (cấp trên ghi {report.stored_at_parent}), "
        f"nhận về {report.pulled} (ghi {report.applied})"
        + (f", đối chiếu sửa {report.repaired}, bỏ {report.purged}" if report.verified else "")
        + "."
    )
    if report.refused:
        console.print(f"[red]{len(report.refused)} bản ghi bị từ chối[/red] — xem `nqsync node status`.")


def _fail(exc: SyncFailed) -> None:
    err_console.print(f"[red]Đồng bộ không thành công:[/red] {exc.message_vi}\n[dim]{exc.message_en}[/dim]")
    raise SystemExit(2)


parent_commands(node)
backup_commands(node, "node")
check_command(node, "node")
user_commands(node)
