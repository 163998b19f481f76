"""The fault proxy does what the fault tests rely on: each kind of fault reaches the parent or the node as described."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest

from tests.faults.proxy import CUT_REQUEST, CUT_RESPONSE, DELAY, DUPLICATE, Fault, FaultProxy, MessageReader

BODY = b"x" * 4000


@dataclass
class Upstream:
    """A tiny HTTP server that notes every whole request it receives and answers with BODY."""

    received: list[bytes] = field(default_factory=list)
    port: int = 0
    handlers: set[asyncio.Task[None]] = field(default_factory=set)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        try:
            while (request := await MessageReader(reader).read()) is not None:
                self.received.append(request)
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(BODY) + BODY)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            self.handlers.discard(task)


@pytest.fixture
async def link() -> AsyncIterator[tuple[Upstream, FaultProxy]]:
    upstream = Upstream()
    server = await asyncio.start_server(upstream.handle, "127.0.0.1", 0)
    upstream.port = server.sockets[0].getsockname()[1]
    proxy = await FaultProxy(upstream.port).start()
    yield upstream, proxy
    await proxy.close()
    server.close()
    for task in list(upstream.handlers):  # a connection the proxy left open must not outlive the test's loop
        task.cancel()
    await asyncio.gather(*upstream.handlers, return_exceptions=True)


async def post(proxy: FaultProxy, payload: bytes = b"p" * 3000) -> httpx.Response:
    async with httpx.AsyncClient(base_url=proxy.url) as http:
        return await http.post("/sync/v1/push", content=payload)


async def test_without_faults_requests_and_responses_pass_whole(link: tuple[Upstream, FaultProxy]) -> None:
    upstream, proxy = link
    resp = await post(proxy)
    assert resp.content == BODY
    assert len(upstream.received) == 1
    assert upstream.received[0].endswith(b"p" * 3000)
    assert proxy.total == 0


async def test_a_request_cut_midway_never_reaches_the_parent_whole(link: tuple[Upstream, FaultProxy]) -> None:
    upstream, proxy = link
    proxy.fault_next(Fault(CUT_REQUEST, after=1500))
    with pytest.raises(httpx.TransportError):
        await post(proxy)
    await asyncio.sleep(0.05)
    assert upstream.received == []
    assert proxy.injected == {CUT_REQUEST: 1}


async def test_a_response_cut_midway_is_lost_after_the_parent_did_the_work(link: tuple[Upstream, FaultProxy]) -> None:
    upstream, proxy = link
    proxy.fault_next(Fault(CUT_RESPONSE, fraction=0.5))
    with pytest.raises(httpx.TransportError):
        await post(proxy)
    assert len(upstream.received) == 1
    assert proxy.injected == {CUT_RESPONSE: 1}


@pytest.mark.parametrize("late", [False, True])
async def test_a_duplicated_request_reaches_the_parent_twice(link: tuple[Upstream, FaultProxy], late: bool) -> None:
    upstream, proxy = link
    proxy.fault_next(Fault(DUPLICATE, late=late))
    resp = await post(proxy)
    await proxy.settle()
    assert resp.content == BODY
    assert len(upstream.received) == 2
    assert upstream.received[0] == upstream.received[1]


async def test_a_delayed_request_arrives_late_but_whole(link: tuple[Upstream, FaultProxy]) -> None:
    upstream, proxy = link
    proxy.fault_next(Fault(DELAY, seconds=0.3), skip=1)
    await post(proxy)
    started = time.monotonic()
    resp = await post(proxy)
    assert time.monotonic() - started >= 0.3
    assert resp.content == BODY
    assert len(upstream.received) == 2
    assert proxy.injected == {DELAY: 1}
