"""Slow and many clients (issue 15 item 5): a real `nqsync server serve` answers a normal request while 200 idle or
trickling connections are open, and drops them once the header deadline passes. Loopback only, bounded in time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness import clean_env, serving

HEADER_TIMEOUT = 2.0
CLIENTS = 200


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[str]:
    env = clean_env(NQSYNC_HEADER_TIMEOUT=str(HEADER_TIMEOUT))
    with serving("server", "serve", "--data", str(tmp_path / "hub"), env=env) as served:
        yield served.url


async def _closed_by_server(reader: asyncio.StreamReader) -> bool:
    try:
        return await asyncio.wait_for(reader.read(65536), timeout=0.1) == b""
    except TimeoutError:
        return False
    except ConnectionError:
        return True


async def test_the_hub_answers_while_200_slow_clients_hold_connections_and_drops_them_later(hub: str) -> None:
    port = int(hub.rsplit(":", 1)[1])
    streams = [await asyncio.open_connection("127.0.0.1", port) for _ in range(CLIENTS)]
    slow = streams[: CLIENTS // 2]  # the other half connect and send nothing
    for _, writer in slow:
        writer.write(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    stop = asyncio.Event()

    async def trickle() -> None:  # a byte every 0.3 s per slow client: headers that never end (slowloris)
        while not stop.is_set():
            for _, writer in slow:
                if not writer.is_closing():
                    writer.write(b"a")
            await asyncio.sleep(0.3)

    trickling = asyncio.create_task(trickle())
    try:
        async with httpx.AsyncClient(base_url=hub, timeout=5) as client:
            started = time.monotonic()
            assert (await client.get("/health")).status_code == 200
            page = await client.get("/dang-nhap")
            assert page.status_code == 200
            assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
            assert "strict-transport-security" not in page.headers
            # From a trusted proxy (loopback by default) X-Forwarded-Proto says HTTPS: HSTS and Secure cookies.
            proxied = await client.get("/dang-nhap", headers={"X-Forwarded-Proto": "https"})
            assert "strict-transport-security" in proxied.headers
            assert all("Secure" in c for c in proxied.headers.get_list("set-cookie"))
            assert time.monotonic() - started < HEADER_TIMEOUT, "answered while every slow client was still open"
        await asyncio.sleep(HEADER_TIMEOUT + 1.0)
        closed = [await _closed_by_server(reader) for reader, _ in streams]
        assert all(closed), f"{closed.count(False)} of {CLIENTS} slow or idle connections still open"
    finally:
        stop.set()
        await trickling
        for _, writer in streams:
            writer.close()
