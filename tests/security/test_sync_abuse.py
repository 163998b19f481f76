"""Hand-written abuse of the sync endpoints (issue 15 item 4), against a real `nqsync server serve` process over
loopback: garbage and deeply nested msgpack, a zstd bomb, a huge single field, a lying Content-Length, and many
requests from a revoked credential. Each gets a 4xx naming the problem in the protocol's error shape, nothing is
applied (the hub's synced rows and feed head are unchanged) and the hub's peak memory (VmHWM) stays bounded.
"""

from __future__ import annotations

import asyncio
import random
import socket
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import msgspec
import pytest
import zstandard
from sqlalchemy import func, select

from shared.catalogue import build_registry
from shared.db.engine import Database
from shared.db.migrate import upgrade
from shared.members.records import MemberRecord
from shared.settings import SyncSettings, sqlite_url
from shared.sync.client import enrol
from shared.sync.parent import Parent
from shared.sync.protocol import MEDIA_TYPE, PROTOCOL, PROTOCOL_HEADER, Batch, PushRequest, pack, raw_array
from shared.sync.tables import FeedCounter
from tests.domain_harness import make_units, seed
from tests.harness import serving

MB = 1024 * 1024
LIMIT = 32 * MB  # http.max_body_bytes, the default the hub process runs with
MEMORY_BOUND = 200 * MB


@dataclass
class Hub:
    url: str
    proc: subprocess.Popen[bytes]
    db_url: str
    owner: uuid.UUID
    credential: str
    revoked: str
    baseline_hwm: int

    def hwm(self) -> int:
        """The hub process's peak resident memory so far (VmHWM), in bytes."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmHWM")


async def _state(db_url: str) -> tuple[int, ...]:
    """The feed head and the row count of every synced table: equal before and after means nothing was applied."""
    db = Database(db_url)
    try:
        async with db.read() as conn:
            head = int((await conn.execute(select(FeedCounter.last))).scalar_one())
            counts = [
                int((await conn.execute(select(func.count()).select_from(rt.table))).scalar_one())
                for rt in build_registry()
            ]
    finally:
        await db.dispose()
    return head, *counts


def state(hub: Hub) -> tuple[int, ...]:
    return asyncio.run(_state(hub.db_url))


def member(owner: uuid.UUID, name: str = "Nguyễn Văn A") -> MemberRecord:
    return MemberRecord(
        id=uuid.uuid4(), owner=owner, audience=None, rev=1, deleted=False, full_name=name, birth_year=1980,
        obligation="obliged",
    )  # fmt: skip


def push_of(*records: MemberRecord, rows: bytes | None = None) -> PushRequest:
    wires = [msgspec.msgpack.encode(r) for r in records]
    batch = Batch("member", msgspec.Raw(rows) if rows is not None else raw_array(wires))
    return PushRequest(protocol=PROTOCOL, after=0, upto=1, batches=[batch])


def headers(credential: str | None, *, zstd: bool = True) -> dict[str, str]:
    out = {PROTOCOL_HEADER: str(PROTOCOL), "content-type": MEDIA_TYPE}
    if zstd:
        out["content-encoding"] = "zstd"
    if credential:
        out["authorization"] = f"Bearer {credential}"
    return out


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A hub process on SQLite with the test tree, one enrolled district node and one enrolled then revoked."""
    data = tmp_path_factory.mktemp("abusehub")
    db_url = sqlite_url(data / "nqsync.sqlite3")
    units = make_units()

    async def prepare() -> list[str]:
        db = Database(db_url)
        await upgrade(db)
        await seed(db, units, role="hub")
        parent = Parent(db, build_registry(), SyncSettings())
        codes = [await parent.issue_code(units["H1"].id) for _ in range(2)]
        await db.dispose()
        return codes

    codes = asyncio.run(prepare())
    with serving("server", "serve", "--data", str(data)) as served:
        url, proc = served.url, served.proc

        async def enrol_both() -> tuple[str, str]:
            good = await enrol(url, codes[0], "H1 chính")
            bad = await enrol(url, codes[1], "H1 bị thu hồi")
            # Revoked before it ever authenticated, so no cached trust in the hub process outlives it.
            db = Database(db_url)
            await Parent(db, build_registry(), SyncSettings()).revoke(bad.node_id)
            await db.dispose()
            return good.credential, bad.credential

        credential, revoked = asyncio.run(enrol_both())
        owner = units["H1"].id
        # The same push, well formed, is stored: the abuse below differs from it only in what is tested.
        ok = httpx.post(f"{url}/sync/v1/push", content=pack(push_of(member(owner))), headers=headers(credential))
        assert ok.status_code == 200, ok.text
        hub = Hub(url, proc, db_url, owner, credential, revoked, 0)
        hub.baseline_hwm = hub.hwm()
        yield hub


def refused(hub: Hub, response: httpx.Response, status: int, code: str, words: str) -> None:
    """A 4xx in the protocol's error shape (code, Vietnamese and English words), and the hub still well."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    problem = response.json()
    assert set(problem) >= {"code", "message_vi", "message_en"}
    assert problem["code"] == code, problem
    assert words in problem["message_vi"], problem["message_vi"]
    assert "không có gì được ghi" in problem["message_vi"] or code == "bad_credential", problem["message_vi"]
    assert hub.proc.poll() is None
    grown = hub.hwm() - hub.baseline_hwm
    assert grown < MEMORY_BOUND, f"the hub's peak memory grew by {grown // MB} MB"


def post(hub: Hub, body: bytes, *, zstd: bool = True, credential: str | None = "") -> httpx.Response:
    cred = hub.credential if credential == "" else credential
    return httpx.post(f"{hub.url}/sync/v1/push", content=body, headers=headers(cred, zstd=zstd), timeout=120)


def test_garbage_bytes_are_refused_as_a_corrupt_message(hub: Hub) -> None:
    before = state(hub)
    noise = random.Random(15).randbytes(64 * 1024)
    refused(hub, post(hub, noise, zstd=False), 400, "bad_message", "không đúng định dạng")
    # Announced as zstd but not a zstd frame (zstandard's error is no ValueError: it was a 500).
    refused(hub, post(hub, noise), 400, "bad_message", "không đúng định dạng")
    # Valid msgpack of the wrong shape.
    wrong = msgspec.msgpack.encode({"msg": "push", "protocol": PROTOCOL, "batches": "x" * 100})
    refused(hub, post(hub, wrong, zstd=False), 400, "bad_message", "không đúng định dạng")
    assert state(hub) == before


def test_deeply_nested_msgpack_is_refused_not_a_crash(hub: Hub) -> None:
    before = state(hub)
    deep = b"\x91" * 100_000 + b"\xc0"  # 100 000 nested one-element arrays
    # At the top the typed decoder refuses the first array (a message is a map) without descending.
    refused(hub, post(hub, deep, zstd=False), 400, "bad_message", "không đúng định dạng")
    # Where a record should be (msgspec.Raw, skipped recursively), in an otherwise valid push, compressed.
    refused(hub, post(hub, pack(push_of(rows=b"\x91" + deep))), 400, "too_deep", "lồng nhau quá sâu")
    assert state(hub) == before


def test_a_zstd_bomb_is_refused_once_it_inflates_past_the_limit(hub: Hub) -> None:
    before = state(hub)
    compressor = zstandard.ZstdCompressor(level=3).compressobj()
    zero = bytes(MB)
    bomb = b"".join(compressor.compress(zero) for _ in range(1024)) + compressor.flush()  # 1 GiB of zeros
    assert len(bomb) < LIMIT // 100
    response = post(hub, bomb)
    refused(hub, response, 413, "too_large", "sau khi giải nén")
    assert response.json()["detail"]["limit"] == LIMIT
    assert state(hub) == before


def test_a_huge_single_field_is_refused_and_nothing_applied(hub: Hub) -> None:
    before = state(hub)
    huge = push_of(member(hub.owner), member(hub.owner, "A" * (50 * MB)))
    # As a node sends it (zstd: 50 MB of one letter packs into a few kilobytes), and uncompressed.
    refused(hub, post(hub, pack(huge)), 413, "too_large", "sau khi giải nén")
    refused(hub, post(hub, pack(huge, compress=False), zstd=False), 413, "too_large", "vượt quá 32 MB")
    assert state(hub) == before
    # A field that fits in a body (5 MB) but not in a record: that record alone is refused, named to the node.
    fat = member(hub.owner, "B" * (5 * MB))
    reply = post(hub, pack(push_of(fat)))
    assert reply.status_code == 200
    answer = msgspec.msgpack.decode(reply.content)  # httpx has undone the zstd content-encoding
    assert answer["stored"] == 0
    ((kind, rid, rev, reason),) = answer["refused"]
    assert (kind, uuid.UUID(bytes=rid), rev) == ("member", fat.id, 1)
    assert "quá giới hạn 1024 KB cho một bản ghi" in reason
    assert state(hub) == before, "the oversize record was stored"


def test_a_declared_content_length_past_the_limit_is_refused_before_the_body(hub: Hub) -> None:
    before = state(hub)
    host, port = hub.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        head = (
            f"POST /sync/v1/push HTTP/1.1\r\nHost: {host}\r\n{PROTOCOL_HEADER}: {PROTOCOL}\r\n"
            f"Content-Type: {MEDIA_TYPE}\r\nAuthorization: Bearer {hub.credential}\r\n"
            f"Content-Length: {4 * 1024 * MB}\r\n\r\n"
        )
        conn.sendall(head.encode() + b"\0" * 4096)  # 4 GiB announced, 4 KiB sent: the answer must not wait
        reply = b""
        while b"\r\n\r\n" not in reply or len(reply.split(b"\r\n\r\n", 1)[1]) < 20:
            chunk = conn.recv(65536)
            if not chunk:
                break
            reply += chunk
    status_line, _, rest = reply.partition(b"\r\n")
    assert b" 413 " in status_line, reply[:300]
    body = rest.split(b"\r\n\r\n", 1)[1]
    problem = msgspec.json.decode(body[: body.rindex(b"}") + 1])
    assert problem["code"] == "too_large"
    assert "vượt quá 32 MB" in problem["message_vi"]
    assert hub.hwm() - hub.baseline_hwm < MEMORY_BOUND
    assert state(hub) == before


def test_many_requests_from_a_revoked_credential_are_all_refused(hub: Hub) -> None:
    before = state(hub)
    body = pack(push_of(member(hub.owner)))
    codes: dict[tuple[int, str], int] = {}
    with httpx.Client(base_url=hub.url, timeout=30) as client:
        for _ in range(500):
            r = client.post("/sync/v1/push", content=body, headers=headers(hub.revoked))
            key = (r.status_code, r.json()["code"])
            codes[key] = codes.get(key, 0) + 1
        last = client.post("/sync/v1/push", content=body, headers=headers(hub.revoked))
    assert codes == {(401, "bad_credential"): 500}
    refused(hub, last, 401, "bad_credential", "đã bị thu hồi")
    assert state(hub) == before
    # A forged credential for the same node fares no better.
    forged = hub.revoked.split(".")[0] + ".khong-phai-bi-mat"
    refused(hub, post(hub, body, credential=forged), 401, "bad_credential", "không hợp lệ")
