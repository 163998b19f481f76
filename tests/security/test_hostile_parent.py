"""A misbehaving parent (a hijacked or broken hub, stood in for by a tiny HTTP server here): the node refuses what
it sends in plain words, fails the round, and applies nothing of it (issue 14 item 3)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import pytest
import zstandard
from sqlalchemy import func, select, update

from shared.members.records import MEMBER
from shared.settings import SyncSettings
from shared.sync.client import SyncFailed
from shared.sync.protocol import Batch, PullResponse, encoder, pack, raw_array
from shared.sync.tables import Upstream
from tests.harness import Cluster, Instance

MB = 1024 * 1024
LIMIT = SyncSettings().max_reply_bytes
DEEP = b"\x91" * 100_000 + b"\xc0"  # 100 000 nested one-element arrays
NOTHING_WRITTEN = "không có gì được ghi"


@dataclass
class HostileParent:
    """Answers every POST with `reply` (raw bytes: status line, headers, body), whatever was asked."""

    url: str = ""
    reply: bytes = b""
    stream: Callable[[asyncio.StreamWriter], Any] | None = None
    requests: int = 0
    server: asyncio.Server | None = field(default=None, repr=False)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"content-length: *(\d+)", head, re.IGNORECASE)
                await reader.readexactly(int(length.group(1)) if length else 0)
                self.requests += 1
                if self.stream is not None:
                    await self.stream(writer)
                else:
                    writer.write(self.reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def reply(body: bytes, *, status: str = "200 OK", zstd: bool = True, extra: str = "") -> bytes:
    encoding = "content-encoding: zstd\r\n" if zstd else ""
    return (
        f"HTTP/1.1 {status}\r\ncontent-type: application/vnd.nqsync+msgpack\r\n{encoding}{extra}"
        f"content-length: {len(body)}\r\n\r\n"
    ).encode() + body


@dataclass
class Setup:
    cluster: Cluster
    node: Instance
    parent: HostileParent


@pytest.fixture
async def setup(tmp_path: Path, make_database_url: Any) -> AsyncIterator[Setup]:
    """A district node that synced with a real hub, then pointed at the hostile parent instead."""
    cluster = Cluster(tmp_path, make_database_url, SyncSettings(cache_seconds=0, request_timeout_seconds=20))
    hostile = HostileParent()
    hostile.server = await asyncio.start_server(hostile.handle, "127.0.0.1", 0)
    hostile.url = f"http://127.0.0.1:{hostile.server.sockets[0].getsockname()[1]}"
    try:
        hub = await cluster.hub("sqlite")
        node = await cluster.node("H1", hub, serve=False)
        async with node.db.write() as conn:
            await conn.execute(update(Upstream).values(url=hostile.url))
        yield Setup(cluster, node, hostile)
    finally:
        hostile.server.close()
        await cluster.close()


async def held(node: Instance) -> tuple[Any, ...]:
    """What a reply could have changed at the node: its cursors and scope, and the members it holds."""
    async with node.db.read() as conn:
        up = (await conn.execute(select(Upstream.pull_cursor, Upstream.push_cursor, Upstream.scope))).one()
        members = (await conn.execute(select(func.count()).select_from(MEMBER.table))).scalar_one()
    return (*up, members)


async def refused(s: Setup, code: str, words: str) -> SyncFailed:
    """The round fails with `code`, the node's users are told `words`, and nothing of the reply is applied."""
    before = await held(s.node)
    with pytest.raises(SyncFailed) as caught:
        await s.cluster.sync(s.node)
    assert caught.value.code == code, (caught.value.code, caught.value.message_en)
    assert words in caught.value.message_vi, caught.value.message_vi
    assert s.parent.requests >= 1
    assert await held(s.node) == before
    async with s.node.db.read() as conn:
        error = (await conn.execute(select(Upstream.last_error))).scalar_one()
    assert error == caught.value.message_vi, "the sync page shows why the round failed"
    return caught.value


def pulled(*wires: bytes, cursor: int = 10**6) -> PullResponse:
    return PullResponse(cursor=cursor, more=False, scope="hostile", batches=[Batch("member", raw_array(list(wires)))])


async def test_a_zstd_bomb_from_the_parent_is_refused_once_it_inflates_past_the_limit(setup: Setup) -> None:
    compressor = zstandard.ZstdCompressor(level=3).compressobj()
    zero = bytes(MB)
    bomb = b"".join(compressor.compress(zero) for _ in range(1024)) + compressor.flush()  # 1 GiB of zeros
    assert len(bomb) < LIMIT // 100
    setup.parent.reply = reply(bomb)
    failed = await refused(setup, "reply_too_large", f"vượt quá {LIMIT // MB} MB")
    assert NOTHING_WRITTEN in failed.message_vi


async def test_a_valid_reply_that_inflates_past_a_lower_limit_is_refused(setup: Setup) -> None:
    # A well-formed pull of real records, 3 MB once decompressed, against a node that accepts 2 MB.
    member = setup.cluster.member("H1", "A" * (3 * MB))
    setup.parent.reply = reply(pack(pulled(encoder.encode(member))))
    setup.cluster.sync_settings = SyncSettings(cache_seconds=0, max_reply_bytes=2 * MB)
    await refused(setup, "reply_too_large", "vượt quá 2 MB")


async def test_a_reply_declaring_more_than_the_limit_is_refused_before_its_body(setup: Setup) -> None:
    # The body never comes: a node that waited for it would hang until its timeout, one that read it would fill RAM.
    setup.parent.reply = b"HTTP/1.1 200 OK\r\ncontent-encoding: zstd\r\ncontent-length: 107374182400\r\n\r\n"
    await asyncio.wait_for(refused(setup, "reply_too_large", NOTHING_WRITTEN), timeout=10)


async def test_a_chunked_reply_past_the_limit_is_refused_while_it_streams(setup: Setup) -> None:
    sent: list[int] = []

    async def stream(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        chunk = f"{MB:x}\r\n".encode() + bytes(MB) + b"\r\n"
        for _ in range(4 * LIMIT // MB):  # 4× the limit, if the node kept reading
            writer.write(chunk)
            await writer.drain()
            sent.append(MB)

    setup.parent.stream = stream
    await refused(setup, "reply_too_large", NOTHING_WRITTEN)
    assert sum(sent) < 2 * LIMIT, "the node read on past its limit"


async def test_deeply_nested_replies_are_refused_not_a_crash(setup: Setup) -> None:
    good = encoder.encode(setup.cluster.member("H1"))
    # In a record, after a valid one: an array-like struct skips trailing fields recursively.
    poisoned = bytes([good[0] + 1]) + good[1:] + DEEP
    setup.parent.reply = reply(pack(pulled(good, poisoned)))
    await refused(setup, "bad_reply", NOTHING_WRITTEN)
    # In an unknown field of the message itself (skipped recursively too).
    body = encoder.encode(pulled(good))
    setup.parent.reply = reply(
        zstandard.ZstdCompressor().compress(bytes([body[0] + 1]) + body[1:] + b"\xa4junk" + DEEP)
    )
    await refused(setup, "bad_reply", NOTHING_WRITTEN)
    # In the detail of an error reply (JSON).
    problem = b'{"code":"x","message_vi":"x","message_en":"x","detail":{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}}"
    setup.parent.reply = reply(problem, status="500 Internal Server Error", zstd=False)
    await refused(setup, "", "Cấp trên trả lời lỗi 500")


async def test_corrupt_and_malformed_replies_are_refused(setup: Setup) -> None:
    good = encoder.encode(setup.cluster.member("H1"))
    setup.parent.reply = reply(b"\x28\xb5\x2f\xfd" + b"not zstd at all" * 100)
    await refused(setup, "bad_reply", NOTHING_WRITTEN)
    setup.parent.reply = reply(pack(pulled(good, b"\xc1" * 40)))  # 0xc1 is never valid msgpack
    await refused(setup, "bad_reply", NOTHING_WRITTEN)
    setup.parent.reply = reply(msgspec.msgpack.encode({"msg": "pulled", "cursor": "many"}), zstd=False)
    await refused(setup, "bad_reply", NOTHING_WRITTEN)
    setup.parent.reply = reply(pack(pulled(good)), extra="content-encoding: br\r\n", zstd=False)
    await refused(setup, "bad_reply", NOTHING_WRITTEN)
    setup.parent.reply = b"SSH-2.0-OpenSSH_9.2\r\n"  # not HTTP at all
    await refused(setup, "bad_reply", NOTHING_WRITTEN)
    setup.parent.reply = b"HTTP/1.1 200 OK\r\n" + b"x-junk: y\r\n" * 1000 + b"\r\n"
    await refused(setup, "bad_reply", NOTHING_WRITTEN)
    setup.parent.reply = b"HTTP/1.1 200 OK\r\nx-junk: " + b"y" * (100 * 1024) + b"\r\n\r\n"
    await refused(setup, "bad_reply", NOTHING_WRITTEN)


async def test_the_same_node_applies_a_well_formed_reply_from_that_server(setup: Setup) -> None:
    # The control: what the tests above refuse differs from this only in what is tested.
    member = setup.cluster.member("H1")
    setup.parent.reply = reply(pack(pulled(encoder.encode(member), cursor=7)))
    before = await held(setup.node)
    report = await setup.cluster.sync(setup.node)
    assert report.applied == 1
    assert await held(setup.node) == (7, before[1], "hostile", before[3] + 1)
