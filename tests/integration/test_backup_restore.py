"""Backup and restore through the real `nqsync` command, and convergence after it (issue 13, docs/sync-protocol.md).

A hub (SQLite or PostgreSQL) with a district node and base nodes, real HTTP on loopback; backups taken while
serving; the restored instance, its children and its parent must converge: every record comes back, none is
applied twice, the nodes keep their edits.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import select

from shared.backup import MAGIC, backup, read_header, restore
from shared.domain.grades import band_of
from shared.essays.records import EssayGradeRecord
from shared.settings import Settings
from shared.sync import store
from shared.sync.parent_base import SyncError
from shared.sync.tables import FeedCounter, Upstream
from tests.harness import DOCUMENT, ESSAY_GRADE, Cluster, Instance

NQSYNC = str(Path(sys.executable).with_name("nqsync"))


@pytest.fixture
async def cluster(tmp_path: Path, make_database_url) -> AsyncIterator[Cluster]:  # type: ignore[no-untyped-def]
    c = Cluster(tmp_path, make_database_url)
    yield c
    await c.close()


async def nqsync(*args: str, database_url: str) -> tuple[int, str]:
    """The real command in a process of its own; its exit status and everything it printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NQSYNC_")}
    env.update(COLUMNS="200", NQSYNC_DATABASE_URL=database_url)
    proc = await asyncio.create_subprocess_exec(
        NQSYNC, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await proc.communicate()
    return int(proc.returncode or 0), out.decode()


def edited(grade: EssayGradeRecord, score: str) -> EssayGradeRecord:
    """The grade as its owner edits it: the next rev, a new score and its band."""
    return msgspec.structs.replace(grade, rev=grade.rev + 1, score=Decimal(score), band=str(band_of(Decimal(score))))


def role_of(inst: Instance) -> str:
    return "server" if inst.name == "TU" else "node"


async def take_backup(inst: Instance, to: Path) -> None:
    """`nqsync server|node backup` while the instance is serving."""
    code, out = await nqsync(
        role_of(inst), "backup", "--data", str(inst.settings.data_dir), "--to", str(to),
        database_url=inst.settings.database.url,
    )  # fmt: skip
    assert code == 0, out
    assert "Đã sao lưu" in out


async def restore_stopped(cluster: Cluster, inst: Instance, backup_file: Path, *, force: bool) -> tuple[int, str]:
    """Stop the instance, run `nqsync ... restore`, serve it again at the same address."""
    await cluster.stop_serving(inst)
    await inst.db.dispose()
    args = [role_of(inst), "restore", str(backup_file), "--data", str(inst.settings.data_dir)]
    result = await nqsync(*args, *(["--force"] if force else []), database_url=inst.settings.database.url)
    await cluster.serve(inst)
    return result


async def pull_cursor(inst: Instance) -> int:
    async with inst.db.read() as conn:
        return int((await conn.execute(select(Upstream.pull_cursor).order_by(Upstream.priority))).scalars().first())


async def write_documents_past(cluster: Cluster, parent: Instance, child: Instance) -> set[object]:
    """Documents written at a restored parent until its feed passes the child's old cursor: under reused seqs."""
    async with parent.db.read() as conn:
        head = await store.head(conn)
    count = max(await pull_cursor(child) - head + 2, 3)
    docs = [cluster.document(parent.name, f"{i}-NQ/{parent.name}") for i in range(count)]
    await cluster.write(parent, DOCUMENT, docs)
    return {d.id for d in docs}


async def settle(cluster: Cluster, *nodes: Instance, rounds: int = 3) -> None:
    for _ in range(rounds):
        for node in nodes:
            await cluster.sync(node)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_hub_restored_from_an_old_backup_gets_back_what_its_nodes_hold(
    cluster: Cluster, tmp_path: Path, backend: str
) -> None:
    hub = await cluster.hub(backend)
    h1 = await cluster.node("H1", hub)  # a district, serving its base below
    b1 = await cluster.node("H1B1", h1, serve=False)  # through the district (its grades are relayed)
    b2 = await cluster.node("H2B1", hub, serve=False)  # straight with the hub
    doc = cluster.document("TU")
    await cluster.write(hub, DOCUMENT, [doc])
    g1 = cluster.grade("H1B1", cluster.member("H1B1").id, doc.id, "6")
    k1 = cluster.grade("H2B1", cluster.member("H2B1").id, doc.id, "7")
    await cluster.write(b1, ESSAY_GRADE, [g1])
    await cluster.write(b2, ESSAY_GRADE, [k1])
    await settle(cluster, b1, h1, b2, rounds=2)
    assert await cluster.ids(hub, ESSAY_GRADE) == {g1.id, k1.id}

    backup_file = tmp_path / "hub.nqsync-backup"
    await take_backup(hub, backup_file)
    header, _ = read_header(backup_file)
    assert (header.engine, header.role) == (backend, "hub")

    # After the backup the bases go on: new grades, and edits of grades the backup holds at rev 1.
    g2 = cluster.grade("H1B1", cluster.member("H1B1").id, doc.id, "9")
    k2 = cluster.grade("H2B1", cluster.member("H2B1").id, doc.id, "5")
    g1_edit = edited(g1, "8")
    k1_edit = edited(k1, "9.5")
    await cluster.write(b1, ESSAY_GRADE, [g2, g1_edit])
    await cluster.write(b2, ESSAY_GRADE, [k2, k1_edit])
    await settle(cluster, b1, h1, b2, rounds=2)
    at_hub = await cluster.held(hub, ESSAY_GRADE)
    assert at_hub == {g1.id: 2, g2.id: 1, k1.id: 2, k2.id: 1}
    kept_b1, kept_b2 = await cluster.held(b1, ESSAY_GRADE), await cluster.held(b2, ESSAY_GRADE)

    # A restore over the hub's live data is refused unless forced, and changes nothing.
    code, out = await restore_stopped(cluster, hub, backup_file, force=False)
    assert code != 0
    assert "đã có dữ liệu" in out, out
    assert "--force" in out
    assert await cluster.held(hub, ESSAY_GRADE) == at_hub

    code, out = await restore_stopped(cluster, hub, backup_file, force=True)
    assert code == 0, out
    assert "Đã khôi phục" in out
    assert await cluster.ids(hub, ESSAY_GRADE) == {g1.id, k1.id}, "the hub went back to the backup"

    # The restored hub writes on under seqs its children's cursors have already passed.
    new_docs = await write_documents_past(cluster, hub, h1)
    await settle(cluster, h1, b1, b2, h1)

    assert await cluster.held(hub, ESSAY_GRADE) == {**kept_b1, **kept_b2}, "every grade comes back, at its rev"
    assert await cluster.held(b1, ESSAY_GRADE) == kept_b1, "the base keeps its edits; nobody rewrote them"
    assert await cluster.held(b2, ESSAY_GRADE) == kept_b2
    assert await cluster.held(h1, ESSAY_GRADE) == kept_b1, "the district relays the base's own copies"
    async with hub.db.read() as conn:
        score = (await conn.execute(select(ESSAY_GRADE.table.c.score).where(ESSAY_GRADE.table.c.id == g1.id))).scalar()
    assert score == Decimal("8")
    for node in (h1, b1, b2):
        assert new_docs <= await cluster.ids(node, DOCUMENT), f"{node.name} got every document of the new feed"
        assert await cluster.held(node, DOCUMENT) == await cluster.held(hub, DOCUMENT)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_district_node_restored_from_its_own_old_backup_converges(
    cluster: Cluster, tmp_path: Path, backend: str
) -> None:
    hub = await cluster.hub(backend)
    h1 = await cluster.node("H1", hub)
    b1 = await cluster.node("H1B1", h1, serve=False)
    doc = cluster.document("TU")
    await cluster.write(hub, DOCUMENT, [doc])
    g = cluster.grade("H1", cluster.member("H1").id, doc.id, "6")
    b = cluster.grade("H1B1", cluster.member("H1B1").id, doc.id, "7")
    await cluster.write(h1, ESSAY_GRADE, [g])
    await cluster.write(b1, ESSAY_GRADE, [b])
    await settle(cluster, b1, h1, rounds=2)

    backup_file = tmp_path / "h1.nqsync-backup"
    await take_backup(h1, backup_file)

    lost_edit = edited(g, "7.5")
    g2 = cluster.grade("H1", cluster.member("H1").id, doc.id, "9")
    b2 = cluster.grade("H1B1", cluster.member("H1B1").id, doc.id, "8")
    await cluster.write(h1, ESSAY_GRADE, [lost_edit, g2])
    await cluster.write(b1, ESSAY_GRADE, [b2])
    await settle(cluster, b1, h1, rounds=2)
    assert await cluster.held(hub, ESSAY_GRADE) == {g.id: 2, g2.id: 1, b.id: 1, b2.id: 1}
    kept_b1 = await cluster.held(b1, ESSAY_GRADE)

    code, out = await restore_stopped(cluster, h1, backup_file, force=True)  # the laptop's disk died
    assert code == 0, out
    assert await cluster.ids(h1, ESSAY_GRADE) == {g.id, b.id}
    async with h1.db.read() as conn:
        assert (await conn.execute(select(FeedCounter.epoch))).scalar_one(), "the restore started a new epoch"

    # The district writes on under seqs its base has already pulled past; then everyone syncs.
    new_docs = await write_documents_past(cluster, h1, b1)
    await settle(cluster, h1, b1, h1)

    assert await cluster.held(h1, ESSAY_GRADE) == await cluster.held(hub, ESSAY_GRADE)
    assert await cluster.held(hub, ESSAY_GRADE) == {g.id: 2, g2.id: 1, b.id: 1, b2.id: 1}, "nothing applied twice"
    async with h1.db.read() as conn:
        score = (await conn.execute(select(ESSAY_GRADE.table.c.score).where(ESSAY_GRADE.table.c.id == g.id))).scalar()
    assert score == Decimal("7.5"), "the edit the backup predates comes back from the hub"
    assert await cluster.held(b1, ESSAY_GRADE) == kept_b1, "the base keeps its own grades as they were"
    assert new_docs <= await cluster.ids(b1, DOCUMENT), "the base got every document of the district's new feed"
    assert await cluster.held(b1, DOCUMENT) == await cluster.held(h1, DOCUMENT)


async def test_a_backup_of_a_newer_schema_or_of_another_role_is_refused(
    cluster: Cluster, tmp_path: Path, make_database_url
) -> None:  # type: ignore[no-untyped-def]
    hub = await cluster.hub("sqlite", serve=False)
    file = tmp_path / "hub.backup"
    await backup(hub.settings, "hub", file)
    raw = file.read_bytes()
    header, offset = read_header(file)
    newer = tmp_path / "newer.backup"
    newer.write_bytes(
        MAGIC + json.dumps({**header.__dict__, "revision": "f00dfeedbeef"}).encode() + b"\n" + raw[offset:]
    )
    empty = Settings(
        data_dir=tmp_path / "x", database=hub.settings.database.__class__(url=await make_database_url("sqlite"))
    )
    with pytest.raises(SyncError) as refused:
        await restore(empty, "hub", newer)
    assert "mới hơn" in refused.value.message_vi
    with pytest.raises(SyncError) as refused:
        await restore(empty, "node", file)
    assert refused.value.code == "wrong_role"
    (tmp_path / "junk").write_bytes(b"not a backup")
    with pytest.raises(SyncError) as refused:
        await restore(empty, "hub", tmp_path / "junk")
    assert refused.value.code == "not_a_backup"
