"""SIGTERM, as systemd sends on `systemctl stop`, lets the work in hand finish: real `nqsync` processes on SQLite.

The hub answers a request it is in the middle of (a node's enrolment arriving over a slow link) and exits 0; a node
in the middle of a sync round finishes it, its records reach the parent once, its cursors are saved, and it exits 0.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from shared.db.engine import Database
from shared.documents.records import DOCUMENT, DocumentRecord
from shared.ids import new_id
from shared.settings import sqlite_url
from shared.sync import store
from shared.sync.protocol import (
    MEDIA_TYPE,
    PROTOCOL,
    PROTOCOL_HEADER,
    EnrolRequest,
    EnrolResponse,
    decoder,
    pack,
    unpack_body,
)
from shared.sync.tables import Identity, Upstream
from tests.faults.proxy import DELAY, Fault, FaultProxy, MessageReader, RequestInfo
from tests.harness import DAY, free_port

NQSYNC = str(Path(sys.executable).with_name("nqsync"))
STOP_TIMEOUT = 45  # nqsync-hub.service's TimeoutStopSec, the longest systemd waits before SIGKILL
UNITS_CSV = """ma,ten,ma_cap_tren,cap,loai
TU,Tỉnh ủy Mẫu,,Tỉnh,Cấp ủy
H1,Huyện ủy Mẫu,TU,Huyện,Cấp ủy
H1B1,Đảng bộ xã Mẫu,H1,Cơ sở,Đảng bộ cơ sở
"""
STOPPING = "Đang dừng"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NQSYNC_")}
    env.update(COLUMNS="200", PYTHONUNBUFFERED="1")
    return env


async def _nqsync(*args: str) -> str:
    """Run a one-off command without blocking the loop (the proxy a node syncs through lives on it)."""
    done = await asyncio.to_thread(
        subprocess.run, [NQSYNC, *args], capture_output=True, text=True, timeout=120, env=_env()
    )
    assert done.returncode == 0, f"nqsync {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


class Service:
    """A long-running `nqsync ... serve` process, its output in a log file."""

    def __init__(self, log: Path, *args: str) -> None:
        self.log = log
        self._out = log.open("w")
        self.proc = subprocess.Popen([NQSYNC, *args], env=_env(), stdout=self._out, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8")

    async def listening(self, port: int) -> None:
        await _until(lambda: _connects(port), f"{self.log.stem} did not start listening", self)

    async def stopped(self) -> int:
        """The exit status, once the process has ended by itself within systemd's stop timeout."""
        try:
            return await asyncio.to_thread(self.proc.wait, STOP_TIMEOUT)
        finally:
            self._out.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._out.close()


async def _connects(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True


async def _until(
    check: Callable[[], Awaitable[bool]], failure: str, service: Service | None = None, limit: float = 60
) -> None:
    """Poll until `check()` holds (a deadline only so that a broken build fails instead of hanging)."""
    async with asyncio.timeout(limit):
        while not await check():
            assert service is None or service.proc.poll() is None, f"{failure}: exited\n{service.output()}"
            await asyncio.sleep(0.05)


async def _refused(port: int) -> bool:
    return not await _connects(port)


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[tuple[Path, int, Service]]:
    """A hub on SQLite with a small unit tree, served by `nqsync server serve` as the hub unit runs it."""
    units = tmp_path / "donvi.csv"
    units.write_text(UNITS_CSV, encoding="utf-8")
    data = tmp_path / "hub"
    await _nqsync("server", "init", "--data", str(data), "--units", str(units))
    port = free_port()
    service = Service(tmp_path / "hub.log", "server", "serve", "--data", str(data), "--port", str(port))
    try:
        await service.listening(port)
        yield data, port, service
    finally:
        service.kill()


async def _code(hub_data: Path, unit: str) -> str:
    out = await _nqsync("server", "enroll", "--data", str(hub_data), unit)
    found = re.search(rf"Mã đăng ký cho đơn vị {unit}: (\S+)", out)
    assert found, out
    return found.group(1)


async def test_hub_answers_the_request_in_hand_then_exits_0(hub: tuple[Path, int, Service]) -> None:
    data, port, service = hub
    body = pack(EnrolRequest(protocol=PROTOCOL, code=await _code(data, "H1"), label="Huyện", software="test"))
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST /sync/v1/enrol HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{PROTOCOL_HEADER}: {PROTOCOL}\r\n"
        f"Content-Type: {MEDIA_TYPE}\r\nContent-Encoding: zstd\r\nContent-Length: {len(body)}\r\n"
        "Expect: 100-continue\r\n\r\n".encode()
    )
    await writer.drain()
    # A slow link: the hub has the request's head and is waiting for the body when the stop comes.
    interim = await reader.readuntil(b"\r\n\r\n")
    assert interim.startswith(b"HTTP/1.1 100 "), interim
    service.proc.send_signal(signal.SIGTERM)
    await _until(lambda: _refused(port), "the hub kept accepting connections after SIGTERM")
    writer.write(body)
    await writer.drain()
    response = await MessageReader(reader).read()
    writer.close()
    assert response is not None, "the hub dropped the request it was serving"
    head, _, payload = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), response[:500]
    reply = decoder.decode(unpack_body(payload, compressed=True, max_bytes=1 << 20))
    assert isinstance(reply, EnrolResponse)
    assert reply.unit_code == "H1"
    assert reply.credential
    assert await service.stopped() == 0, service.output()


def _document(unit: uuid.UUID, n: int) -> DocumentRecord:
    return DocumentRecord(
        id=new_id(),
        owner=unit,
        audience=unit,
        rev=1,
        deleted=False,
        number=f"{n}-CV/HU",
        title="Về triển khai nghị quyết",
        signed_on=DAY,
        issuer="Huyện ủy",
        lead_agency="Văn phòng",
        applies_to=[],
    )


async def test_node_finishes_its_sync_round_then_exits_0(hub: tuple[Path, int, Service], tmp_path: Path) -> None:
    hub_data, hub_port, _ = hub
    pushes: list[RequestInfo] = []
    release = asyncio.Event()

    def plan(info: RequestInfo) -> Fault | None:
        if info.path != "/sync/v1/push":
            return None
        pushes.append(info)
        # The first push's answer is held on the slow link until the node has been told to stop.
        return Fault(DELAY, on_response=True, until=release) if len(pushes) == 1 else None

    proxy = await FaultProxy(hub_port, name="slow link").start()
    node: Service | None = None
    try:
        data = tmp_path / "node"
        await _nqsync("node", "init", "--data", str(data), "--parent", proxy.url, "--code", await _code(hub_data, "H1"))
        node_db = Database(sqlite_url(data / "nqsync.sqlite3"))
        async with node_db.write() as conn:
            unit = (await conn.execute(select(Identity.unit))).scalar_one()
            assert unit is not None
            written = [_document(unit, n) for n in range(10, 50)]  # what the district entered while offline
            await store.apply(conn, DOCUMENT, written, origin=None)
        proxy.plan = plan
        at_hub = proxy.watch("request_sent", lambda info, _: info.path == "/sync/v1/push")
        port = free_port()
        node = Service(tmp_path / "node.log", "node", "serve", "--data", str(data), "--port", str(port))
        async with asyncio.timeout(60):
            await at_hub  # the hub has the push; its answer is on its way back
        node.proc.send_signal(signal.SIGTERM)

        service = node

        async def stopping() -> bool:
            return STOPPING in service.output()

        await _until(stopping, "the node did not begin stopping", service)
        release.set()
        assert await node.stopped() == 0, node.output()

        async with node_db.read() as conn:
            head = await store.head(conn)
            cursors = (await conn.execute(select(Upstream.push_cursor, Upstream.pull_cursor))).one()
        await node_db.dispose()
        assert cursors.push_cursor == head, "the acknowledged push was saved before the node exited"
        assert cursors.pull_cursor > 0
        assert len(pushes) == 1
        hub_db = Database(sqlite_url(hub_data / "nqsync.sqlite3"))
        async with hub_db.read() as conn:
            held = dict((await conn.execute(select(DOCUMENT.table.c.id, DOCUMENT.table.c.rev))).all())
        await hub_db.dispose()
        assert {d.id: 1 for d in written}.items() <= held.items()
        # Nothing is left to push: the next round sends no push at all.
        out = await _nqsync("node", "sync", "--data", str(data))
        assert "gửi lên 0" in out, out
        assert len(pushes) == 1
    finally:
        if node is not None:
            node.kill()
        await proxy.close()
