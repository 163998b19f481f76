"""The node's HTTP client (`shared.sync.wire.Link`) through an HTTPS proxy: a CONNECT tunnel, TLS end to end.

A tiny real proxy (asyncio streams: CONNECT, then bytes piped both ways) in front of a real TLS server whose
certificate comes from a CA made for the test; the environment's HTTPS_PROXY and NO_PROXY choose the path, as an
office's proxy settings would.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme

from shared.sync.wire import Link, ProxyRefused

REPLY = b"xin chao qua duong ham"
PROXY_VARS = (
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
)


@dataclass
class Seen:
    connects: list[str] = field(default_factory=list)
    """CONNECT request lines and their Proxy-Authorization, as the proxy read them."""
    requests: list[str] = field(default_factory=list)
    """Request lines the TLS server read (inside the tunnel, or straight from the client)."""
    peers: int = 0
    """TCP connections the TLS server accepted."""


async def _head(reader: asyncio.StreamReader) -> list[str]:
    return (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")[:-2]


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


@dataclass
class World:
    server_port: int
    proxy_port: int
    ca: Path
    other_ca: Path
    seen: Seen
    refuse: list[bool]


@pytest.fixture
async def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[World]:
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    ca, other = trustme.CA(), trustme.CA()
    ca.cert_pem.write_to_path(tmp_path / "ca.pem")
    other.cert_pem.write_to_path(tmp_path / "other.pem")
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(server_tls)
    seen = Seen()
    refuse = [False]

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.peers += 1
        try:
            while True:
                lines = await _head(reader)
                seen.requests.append(lines[0])
                length = next(
                    int(v) for k, _, v in (h.partition(": ") for h in lines[1:]) if k.lower() == "content-length"
                )
                await reader.readexactly(length)
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(REPLY), REPLY))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            writer.close()

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        lines = await _head(reader)
        auth = [h for h in lines[1:] if h.lower().startswith("proxy-authorization:")]
        seen.connects.append(" | ".join([lines[0], *auth]))
        method, target, _ = lines[0].split(" ")
        if method != "CONNECT" or refuse[0]:
            writer.write(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
            await writer.drain()
            writer.close()
            return
        host, _, port = target.rpartition(":")
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    tls_server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=server_tls)
    proxy_server = await asyncio.start_server(proxy, "127.0.0.1", 0)
    try:
        yield World(
            tls_server.sockets[0].getsockname()[1],
            proxy_server.sockets[0].getsockname()[1],
            tmp_path / "ca.pem",
            tmp_path / "other.pem",
            seen,
            refuse,
        )
    finally:
        for server in (proxy_server, tls_server):
            server.close()


def _link(world: World, ca: Path) -> Link:
    return Link(f"https://localhost:{world.server_port}", timeout=10, ca_bundle=str(ca), max_reply_bytes=1 << 20)


async def test_an_https_parent_is_reached_through_the_proxy_by_one_connect_tunnel_with_tls_inside(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", f"http://van%20phong:m%E1%BA%ADt@127.0.0.1:{world.proxy_port}")
    link = _link(world, world.ca)
    try:
        replies = [await link.post("/sync/v1/pull", b"abc" * n, "x-test: 1\r\n") for n in (1, 2)]
    finally:
        await link.aclose()
    assert [(r.status, r.body) for r in replies] == [(200, REPLY), (200, REPLY)]
    credentials = base64.b64encode("van phong:mật".encode()).decode()
    assert world.seen.connects == [
        f"CONNECT localhost:{world.server_port} HTTP/1.1 | Proxy-Authorization: Basic {credentials}"
    ], "one tunnel, kept for the second request, with the proxy's credentials on CONNECT only"
    # Inside the tunnel the request names only the path (origin form), as to the parent itself.
    assert world.seen.requests == ["POST /sync/v1/pull HTTP/1.1"] * 2
    assert world.seen.peers == 1


async def test_through_the_proxy_the_parent_certificate_is_still_checked_against_the_nodes_ca(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{world.proxy_port}")
    link = _link(world, world.other_ca)
    try:
        with pytest.raises(ssl.SSLCertVerificationError):
            await link.post("/sync/v1/pull", b"abc", "")
    finally:
        await link.aclose()
    assert len(world.seen.connects) == 1, "the tunnel was opened; the certificate, not the proxy, refused"
    assert world.seen.requests == [], "nothing was sent to a parent that did not prove who it is"


async def test_a_proxy_that_refuses_the_tunnel_is_named_and_nothing_is_sent(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("https_proxy", f"127.0.0.1:{world.proxy_port}")  # lower case, no scheme: as httpx took it
    world.refuse[0] = True
    link = _link(world, world.ca)
    try:
        with pytest.raises(ProxyRefused, match="403"):
            await link.post("/sync/v1/pull", b"abc", "")
    finally:
        await link.aclose()
    assert world.seen.peers == 0


@pytest.mark.parametrize("no_proxy", ["localhost", "127.0.0.1,.example.vn,localhost", "*"])
async def test_no_proxy_sends_the_parent_straight_past_the_proxy(
    world: World, monkeypatch: pytest.MonkeyPatch, no_proxy: str
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{world.proxy_port}")
    monkeypatch.setenv("NO_PROXY", no_proxy)
    link = _link(world, world.ca)
    try:
        reply = await link.post("/sync/v1/pull", b"abc", "")
    finally:
        await link.aclose()
    assert (reply.status, reply.body) == (200, REPLY)
    assert world.seen.connects == [], "the proxy never saw the parent"
    assert world.seen.peers == 1


async def test_no_proxy_for_another_host_still_tunnels_this_one(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{world.proxy_port}")
    monkeypatch.setenv("NO_PROXY", "hub.example.vn,10.0.0.0")
    link = _link(world, world.ca)
    try:
        reply = await link.post("/sync/v1/pull", b"abc", "")
    finally:
        await link.aclose()
    assert reply.status == 200
    assert [c.split(" | ")[0] for c in world.seen.connects] == [f"CONNECT localhost:{world.server_port} HTTP/1.1"]
