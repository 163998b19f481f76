"""A parent past its connection limit (issue 14 item 5): uvicorn's real protocol, as `serve` configures it, answers
503 at once with Retry-After; the node's round fails as retryable, busy, with nothing lost, waits at least what it
was told, and its next round delivers what it had. Loopback only, bounded in time."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import select

from shared.app import create_app
from shared.members.records import MEMBER
from shared.serving import uvicorn_options
from shared.settings import HttpSettings
from shared.sync import store
from shared.sync.agent import backoff, sync_once
from shared.sync.client import SyncFailed
from shared.sync.tables import Upstream
from tests.harness import Cluster, Instance, free_port

LIMIT = 6


@pytest.fixture
async def cluster(tmp_path: Path, make_database_url) -> AsyncIterator[Cluster]:  # type: ignore[no-untyped-def]
    c = Cluster(tmp_path, make_database_url)
    yield c
    await c.close()


async def _serve_limited(hub: Instance) -> uvicorn.Server:
    """The hub app under uvicorn with the options `nqsync server serve` passes, its limit lowered to LIMIT."""
    http = HttpSettings(limit_concurrency=LIMIT, header_timeout_seconds=30)
    port = free_port()
    app = create_app(replace(hub.settings, http=http), role="hub")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", **uvicorn_options(http)))
    hub.task = asyncio.create_task(server.serve())
    hub.server = server
    hub.url = f"http://127.0.0.1:{port}"
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.01)
    return server


async def test_a_full_parent_answers_503_with_retry_after_and_the_node_loses_nothing(cluster: Cluster) -> None:
    hub = await cluster.hub("sqlite", serve=False)
    await _serve_limited(hub)
    node = await cluster.node("H1", hub, serve=False)
    rec = cluster.member("H1")
    await cluster.write(node, MEMBER, [rec])
    async with node.db.read() as conn:
        cursor_before = (await conn.execute(select(Upstream.push_cursor))).scalar_one()
    port = int(hub.url.rsplit(":", 1)[1])
    # Idle connections fill the worker's limit (uvicorn counts connections): the next request is past it.
    held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(LIMIT)]
    try:
        with pytest.raises(SyncFailed) as caught:
            await asyncio.wait_for(sync_once(node.db, cluster.registry, cluster.sync_settings), timeout=10)
    finally:
        for _, writer in held:
            writer.close()
    failed = caught.value
    assert (failed.status, failed.code, failed.retryable) == (503, "busy", True)
    assert failed.retry_after == HttpSettings().retry_after_seconds
    assert "không có gì bị mất" in failed.message_vi
    # The node waits at least what it was told, spread up to twice it (not all refused nodes in the same second).
    told = failed.retry_after
    assert backoff(1, cluster.sync_settings, rand=lambda: 0.0, retry_after=told) == told
    assert backoff(1, cluster.sync_settings, rand=lambda: 1.0, retry_after=told) == 2 * told
    async with node.db.read() as conn:
        assert (await conn.execute(select(Upstream.push_cursor))).scalar_one() == cursor_before
    async with hub.db.read() as conn:
        assert await store.fetch(conn, MEMBER, [rec.id]) == []
    await asyncio.sleep(0.2)  # the held connections' close reaches the hub
    await sync_once(node.db, cluster.registry, cluster.sync_settings)
    async with hub.db.read() as conn:
        assert [r for _, r in await store.fetch(conn, MEMBER, [rec.id])] == [rec]


_FILE_LIMIT = """
import resource
from shared.serving import FILES_BESIDE_CONNECTIONS, fit_file_limit
from shared.settings import HttpSettings
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))  # systemd's default soft limit
http = HttpSettings()
need = http.limit_concurrency + FILES_BESIDE_CONNECTIONS
warning = fit_file_limit(http)
soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
print(soft == need if hard >= need else (soft == hard and "LimitNOFILE" in warning))
"""


def test_serve_raises_its_open_file_limit_to_hold_the_connection_limit() -> None:
    """Below it, accept() fails with EMFILE long before the limit's 503: clients would hang, not be refused."""
    out = subprocess.run([sys.executable, "-c", _FILE_LIMIT], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "True", out.stdout + out.stderr
