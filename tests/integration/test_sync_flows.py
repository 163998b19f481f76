"""Records flow as their type says, over real HTTP between a real hub and nodes (ARCHITECTURE.md, D4, D6, D26)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from shared.settings import SyncSettings
from shared.sync import store
from shared.sync.tables import Upstream
from shared.units.records import UNIT
from tests.harness import DOCUMENT, ESSAY_GRADE, MEMBER, Cluster


@pytest.fixture
async def cluster(tmp_path: Path, make_database_url) -> AsyncIterator[Cluster]:  # type: ignore[no-untyped-def]
    c = Cluster(tmp_path, make_database_url)
    yield c
    await c.close()


async def test_d4_d6_documents_go_down_grades_go_up_rosters_stop_at_the_parent(cluster: Cluster) -> None:
    hub = await cluster.hub()
    h1, h2 = await cluster.node("H1", hub), await cluster.node("H2", hub)
    b11, b21 = await cluster.node("H1B1", h1), await cluster.node("H2B1", h2)

    doc = cluster.document("TU")
    await cluster.write(hub, DOCUMENT, [doc])
    m11, m21 = cluster.member("H1B1"), cluster.member("H2B1", "Trần Thị B")
    g11, g21 = cluster.grade("H1B1", m11.id, doc.id), cluster.grade("H2B1", m21.id, doc.id, "4.5")
    await cluster.write(b11, MEMBER, [m11])
    await cluster.write(b11, ESSAY_GRADE, [g11])
    await cluster.write(b21, MEMBER, [m21])
    await cluster.write(b21, ESSAY_GRADE, [g21])

    for node in (b11, b21, h1, h2, b11, b21):
        await cluster.sync(node)

    assert await cluster.ids(b11, DOCUMENT) == {doc.id}
    assert await cluster.ids(b21, DOCUMENT) == {doc.id}
    assert await cluster.ids(hub, ESSAY_GRADE) == {g11.id, g21.id}
    assert await cluster.ids(h1, ESSAY_GRADE) == {g11.id}, "a district never holds a sibling's records (D4)"
    assert await cluster.ids(h2, ESSAY_GRADE) == {g21.id}
    assert await cluster.ids(h1, MEMBER) == {m11.id}, "the roster reaches the parent"
    assert await cluster.ids(hub, MEMBER) == set(), "and goes no higher (personal data, ceiling 1)"
    assert await cluster.ids(b11, ESSAY_GRADE) == {g11.id}, "a base never receives a sibling's grades"
    b11_units = {cluster.units[c].id for c in ("TU", "H1", "H1B1")}
    assert await cluster.ids(b11, UNIT) == b11_units, "a base knows its ancestors and itself, not its siblings"


async def test_a_base_that_syncs_straight_with_the_hub_converges_with_its_district(cluster: Cluster) -> None:
    hub = await cluster.hub()
    h1 = await cluster.node("H1", hub)
    b11 = await cluster.node("H1B1", h1)
    await cluster.enrol(b11, hub)  # the hub as a fallback upstream
    doc = cluster.document("TU")
    await cluster.write(hub, DOCUMENT, [doc])
    await cluster.sync(h1)
    await cluster.sync(b11, via=h1)
    grades = [cluster.grade("H1B1", cluster.member("H1B1").id, doc.id) for _ in range(5)]
    await cluster.write(b11, ESSAY_GRADE, grades)

    await cluster.stop_serving(h1)  # the district is down: the base's round falls through to the hub
    report = await cluster.sync(b11)
    assert report.pushed == 5
    assert await cluster.ids(hub, ESSAY_GRADE) == {g.id for g in grades}
    assert await cluster.ids(b11, DOCUMENT) == {doc.id}

    await cluster.serve(h1)
    h1_report = await cluster.sync(h1)
    assert await cluster.ids(h1, ESSAY_GRADE) == {g.id for g in grades}, "the district catches up from the hub"
    assert h1_report.pushed == 0
    again = await cluster.sync(h1)
    assert (again.pushed, again.pulled) == (0, 0), "no echo back up"
    b_report = await cluster.sync(b11, via=h1)
    assert b_report.pulled == 0, "the base's own rows are not echoed back down"
    assert b_report.stored_at_parent == 0, "what the district already holds is not stored twice"
    assert await cluster.ids(h1, ESSAY_GRADE) == {g.id for g in grades}


async def test_d10_grades_cross_in_many_batches_in_order_and_once(tmp_path: Path, make_database_url) -> None:  # type: ignore[no-untyped-def]
    """D10 grades going up in batches of 7: the next batch is scanned (push) or asked for (pull) while the current
    one is applied, yet every grade arrives once, cursors end at the head and nothing echoes back."""
    cluster = Cluster(tmp_path, make_database_url, SyncSettings(cache_seconds=0, batch_rows=7))
    try:
        hub = await cluster.hub()
        h1 = await cluster.node("H1", hub)
        b11 = await cluster.node("H1B1", h1)
        await cluster.enrol(b11, hub)
        doc = cluster.document("TU")
        await cluster.write(hub, DOCUMENT, [doc])
        await cluster.sync(h1)
        await cluster.sync(b11, via=h1)
        grades = [cluster.grade("H1B1", cluster.member("H1B1").id, doc.id, str(i % 10)) for i in range(40)]
        await cluster.write(b11, ESSAY_GRADE, grades)
        ids = {g.id for g in grades}

        up = await cluster.sync(b11, via=hub)  # pushed in 6 batches to the hub (PostgreSQL)
        assert (up.pushed, up.stored_at_parent, up.refused) == (40, 40, [])
        assert await cluster.held(hub, ESSAY_GRADE) == dict.fromkeys(ids, 1)

        down = await cluster.sync(h1)  # the district pulls them from the hub in batches into SQLite
        assert (down.pulled, down.applied, down.pushed) == (40, 40, 0)
        assert await cluster.held(h1, ESSAY_GRADE) == dict.fromkeys(ids, 1)

        again = await cluster.sync(b11, via=h1)  # the same grades pushed again in batches to a SQLite parent
        assert (again.pushed, again.stored_at_parent) == (40, 0), "what the district holds is not stored twice"
        quiet = await cluster.sync(h1)
        assert (quiet.pushed, quiet.pulled) == (0, 0), "no echo back up"
        async with hub.db.read() as conn:
            head = await store.head(conn)
        async with h1.db.read() as conn:
            cursor = (await conn.execute(select(Upstream.pull_cursor).where(Upstream.url == hub.url))).scalar_one()
        assert cursor == head
    finally:
        await cluster.close()
