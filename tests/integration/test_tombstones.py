"""Tombstone collection (ARCHITECTURE.md): a deleted record's row is dropped once every child that should see the
deletion has acknowledged past it; a node offline through the collection converges by a digest repair."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import select

from shared.sync.parent import Parent
from shared.sync.registry import RecordType
from shared.sync.tombstones import Collection
from tests.harness import DOCUMENT, ESSAY_GRADE, Cluster, Instance

NQSYNC = str(Path(sys.executable).with_name("nqsync"))


@pytest.fixture
async def cluster(tmp_path: Path, make_database_url) -> AsyncIterator[Cluster]:  # type: ignore[no-untyped-def]
    c = Cluster(tmp_path, make_database_url)
    yield c
    await c.close()


def _parent(inst: Instance) -> Parent:
    """The serving app's own `Parent` (it holds the acknowledgements noted in memory), else a fresh one."""
    if inst.server is not None:
        parent: Parent = inst.server.config.app.state.parent
        return parent
    return inst.parent_service


async def collect(inst: Instance, *, now: datetime | None = None) -> Collection:
    return await _parent(inst).collect_tombstones(now=now)


async def state(inst: Instance, rt: RecordType, rid: uuid.UUID) -> str:
    """ "live", "deleted" or "absent": how `inst` holds the record."""
    async with inst.db.read() as conn:
        row = (await conn.execute(select(rt.table.c.deleted).where(rt.table.c.id == rid))).first()
    return "absent" if row is None else ("deleted" if row.deleted else "live")


async def test_a_tombstone_is_dropped_only_after_every_child_that_should_see_it_acknowledged_it(
    cluster: Cluster,
) -> None:
    hub = await cluster.hub()
    h1, h2 = await cluster.node("H1", hub), await cluster.node("H2", hub, serve=False)
    b = await cluster.node("H1B1", h1, serve=False)
    doc = cluster.document("TU")  # D4: its audience is the province, every child should hear of its deletion
    grade = cluster.grade("H1B1", cluster.member("H1B1").id, doc.id)  # travels up only: H2 never should see it
    await cluster.write(hub, DOCUMENT, [doc])
    await cluster.write(b, ESSAY_GRADE, [grade])
    for node in (h1, h2, b, h1):
        await cluster.sync(node)
    assert await state(hub, ESSAY_GRADE, grade.id) == "live"

    await cluster.write(hub, DOCUMENT, [msgspec.structs.replace(doc, rev=2, deleted=True)])
    await cluster.write(b, ESSAY_GRADE, [msgspec.structs.replace(grade, rev=2, deleted=True)])
    await cluster.sync(b)
    await cluster.sync(h1)  # pushes the grade's tombstone up, pulls the document's: nothing acknowledged yet
    assert (await collect(hub)).total == 0
    assert await state(hub, DOCUMENT, doc.id) == await state(hub, ESSAY_GRADE, grade.id) == "deleted"

    await cluster.sync(h1)  # its pull starts from the cursor past both tombstones: acknowledged
    done = await collect(hub)
    assert done.dropped == {ESSAY_GRADE.name: 1}, "H2 was never to see the grade: it does not hold it back"
    assert await state(hub, DOCUMENT, doc.id) == "deleted", "H2 has not acknowledged the document's deletion"

    await cluster.sync(h2)
    await cluster.sync(h2)
    await _parent(hub).flush_activity()
    # The CLI entry point, as a real process against the hub's database.
    run = await asyncio.to_thread(
        subprocess.run,
        [NQSYNC, "server", "collect-tombstones", "--data", str(hub.settings.data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NQSYNC_DATABASE_URL": hub.settings.database.url},
    )
    assert run.returncode == 0, run.stderr
    assert "Đã dọn 1 bản ghi đã xóa" in run.stdout
    assert await state(hub, DOCUMENT, doc.id) == "absent"

    # A district keeps the tombstone for its own child, and until its parent has acknowledged its push.
    assert await state(h1, DOCUMENT, doc.id) == "deleted"
    assert (await collect(h1)).total == 0, "H1B1 has not acknowledged the deletion at H1"
    await cluster.sync(b)
    await cluster.sync(b)
    assert (await collect(h1)).dropped == {DOCUMENT.name: 1, ESSAY_GRADE.name: 1}, "the grade's too: the hub has it"
    await cluster.sync(b)  # the base's push of this round acknowledges everything it holds to H1
    assert (await collect(b)).dropped == {DOCUMENT.name: 1, ESSAY_GRADE.name: 1}, "a leaf: only its upstream waits"

    # Sides that dropped their tombstones at different times still agree: a verify finds nothing to repair.
    for node in (b, h1, h2):
        report = await cluster.sync(node, verify=True)
        assert (report.repaired, report.purged, report.bumped) == (0, 0, 0), node.name
    for node in (b, h1, h2):
        assert await state(node, DOCUMENT, doc.id) in ("absent", "deleted"), node.name


async def test_a_node_offline_through_the_collection_gets_a_digest_repair_not_a_resurrection(cluster: Cluster) -> None:
    hub = await cluster.hub()
    h1, h2 = await cluster.node("H1", hub, serve=False), await cluster.node("H2", hub)
    b = await cluster.node("H2B1", h2, serve=False)
    await cluster.enrol(b, hub)  # the base may also sync straight with the hub (a fallback upstream)
    doc = cluster.document("TU")
    grade = cluster.grade("H2B1", cluster.member("H2B1").id, doc.id)
    await cluster.write(hub, DOCUMENT, [doc])
    await cluster.write(b, ESSAY_GRADE, [grade])
    for node in (h1, h2, b, h2):
        await cluster.sync(node)
    assert await state(hub, ESSAY_GRADE, grade.id) == await state(b, DOCUMENT, doc.id) == "live"

    # H2 and its base go offline for weeks. Meanwhile the province withdraws the document, and the base, syncing
    # once straight with the hub from elsewhere, deletes its grade there.
    await cluster.write(b, ESSAY_GRADE, [msgspec.structs.replace(grade, rev=2, deleted=True)])
    await cluster.sync(b, via=hub)
    await cluster.write(hub, DOCUMENT, [msgspec.structs.replace(doc, rev=2, deleted=True)])
    await cluster.sync(h1)
    await cluster.sync(h1)
    later = datetime.now(UTC) + timedelta(days=cluster.sync_settings.tombstone_grace_days + 1)
    done = await collect(hub, now=later)
    assert done.dropped == {DOCUMENT.name: 1}, "H2 is past the grace period: it no longer holds back the document"
    assert await state(hub, DOCUMENT, doc.id) == "absent"
    assert await state(hub, ESSAY_GRADE, grade.id) == "deleted", (
        "a tombstone owned in the offline district's subtree is kept: a repair there would push the grade back"
    )
    assert await state(h2, DOCUMENT, doc.id) == await state(h2, ESSAY_GRADE, grade.id) == "live"

    report = await cluster.sync(h2)  # back: its cursor predates the collection, so it verifies first
    assert report.verified
    assert report.purged == 1
    assert await state(h2, DOCUMENT, doc.id) == "absent", "the withdrawn document leaves the district"
    assert await state(h2, ESSAY_GRADE, grade.id) == "deleted", "and it learns of the grade's deletion"
    assert await state(hub, DOCUMENT, doc.id) == "absent", "nothing was pushed back to the hub"
    assert await state(hub, ESSAY_GRADE, grade.id) == "deleted"

    report = await cluster.sync(b)  # its district purged without a tombstone: the base verifies as well
    assert report.verified
    assert report.purged == 1
    assert await state(b, DOCUMENT, doc.id) == "absent"
    for node in (h2, b):
        await cluster.sync(node)
    assert await state(hub, DOCUMENT, doc.id) == "absent"
    assert await state(hub, ESSAY_GRADE, grade.id) == await state(h2, ESSAY_GRADE, grade.id) == "deleted"
    assert await cluster.held(h2, DOCUMENT) == await cluster.held(hub, DOCUMENT)
