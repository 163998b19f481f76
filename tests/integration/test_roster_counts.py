"""D12, D26: a base node's roster edits publish its member counts, which sync up to the hub like any record while
the names stop at the district; the hub's consolidation counts them as its participation denominators."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from shared.consolidation.service import consolidate
from shared.core.scope import unit_info
from shared.members.rosters import ROSTER_COUNT, roster_count_id
from tests.domain_harness import account
from tests.harness import DOCUMENT, MEMBER, Cluster, Instance


@pytest.fixture
async def cluster(tmp_path: Path, make_database_url) -> AsyncIterator[Cluster]:  # type: ignore[no-untyped-def]
    c = Cluster(tmp_path, make_database_url)
    yield c
    await c.close()


async def _count(inst: Instance, cluster: Cluster) -> tuple[int, int, int] | None:
    rc = ROSTER_COUNT.table
    stmt = select(rc.c.rev, rc.c.obliged, rc.c.encouraged).where(rc.c.id == roster_count_id(cluster.units["H1B1"].id))
    async with inst.db.read() as conn:
        row = (await conn.execute(stmt)).first()
    return None if row is None else (row.rev, row.obliged, row.encouraged)


async def test_d12_d26_roster_edits_at_a_base_node_reach_the_hub_as_counts(cluster: Cluster) -> None:
    hub = await cluster.hub()
    h1 = await cluster.node("H1", hub)
    b11 = await cluster.node("H1B1", h1)
    doc = cluster.document("TU")
    await cluster.write(hub, DOCUMENT, [doc])
    headers = await account(b11.db, b11.unit, "editor")
    async with httpx.AsyncClient(base_url=f"{b11.url}/api/v1", headers=headers) as client:
        for body in (
            {"full_name": "Nguyễn Văn An", "birth_year": 1980},
            {"full_name": "Trần Thị Bình", "birth_year": 1985},
            {"full_name": "Lê Văn Cụ", "birth_year": 1950, "obligation": "over_60"},
        ):
            assert (await client.post("/members", json=body)).status_code == 201
        members = (await client.get("/members")).json()
        for node in (b11, h1):
            await cluster.sync(node)
        assert await _count(hub, cluster) == (3, 2, 1), "one revision per roster write, the last one synced"
        assert {str(i) for i in await cluster.ids(h1, MEMBER)} == {m["id"] for m in members}, "the parent holds names"
        assert await cluster.ids(hub, MEMBER) == set(), "names stop at the district (ceiling 1)"

        gone = next(m for m in members if m["full_name"] == "Trần Thị Bình")
        assert (await client.delete(f"/members/{gone['id']}")).status_code == 204
    for node in (b11, h1):
        await cluster.sync(node)
    assert await _count(h1, cluster) == await _count(hub, cluster) == (4, 1, 1)
    async with hub.db.read() as conn:
        top = await unit_info(conn, cluster.units["TU"].id)
        assert top is not None
        c = await consolidate(conn, top, doc.id, "preliminary", today=date(2025, 1, 1), with_bases=False)
    assert (c.figures.essays.obliged.members, c.figures.essays.encouraged.members) == (1, 1)
