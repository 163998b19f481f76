"""Guarantees of the sync engine: bad input refused whole and plainly, restores, refusals, scope changes, repair."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import msgspec
import pytest
from sqlalchemy import delete, select

from shared.domain.tree import move
from shared.sync.protocol import PROTOCOL, PROTOCOL_HEADER, Batch, PushRequest, encoder, pack, raw_array
from shared.sync.tables import Rejection, Upstream
from shared.units.records import UNIT, load_tree, store_units
from tests.harness import DOCUMENT, ESSAY_GRADE, MEMBER, Cluster, Instance


@pytest.fixture
async def cluster(tmp_path: Path, make_database_url) -> AsyncIterator[Cluster]:  # type: ignore[no-untyped-def]
    c = Cluster(tmp_path, make_database_url)
    yield c
    await c.close()


async def _credential(node: Instance) -> str:
    async with node.db.read() as conn:
        return str((await conn.execute(select(Upstream.credential))).scalars().first())


async def _post(url: str, body: bytes, *, credential: str | None, protocol: str = str(PROTOCOL)) -> httpx.Response:
    headers = {PROTOCOL_HEADER: protocol, "content-encoding": "zstd"}
    if credential:
        headers["authorization"] = f"Bearer {credential}"
    async with httpx.AsyncClient(base_url=url) as http:
        return await http.post("/sync/v1/push", content=body, headers=headers)


async def back_up(node: Instance) -> tuple[Path, Path]:
    """Copy a node's SQLite file aside, as an office's nightly file copy does; returns (its file, the copy)."""
    db_file = Path(node.settings.database.url.split("///", 1)[1])
    await node.db.dispose()
    backup = db_file.with_suffix(".backup")
    shutil.copyfile(db_file, backup)
    return db_file, backup


def restore(backup: Path, db_file: Path) -> None:
    shutil.copyfile(backup, db_file)
    for suffix in ("-wal", "-shm"):
        Path(str(db_file) + suffix).unlink(missing_ok=True)


def _push(*batches: Batch) -> bytes:
    return pack(PushRequest(protocol=PROTOCOL, after=0, upto=1, batches=list(batches)))


def _batch(type_name: str, records: list[msgspec.Struct]) -> Batch:
    return Batch(type_name, raw_array([encoder.encode(r) for r in records]))


async def test_bad_input_is_refused_with_plain_words_and_changes_nothing(cluster: Cluster) -> None:
    hub = await cluster.hub()
    h1 = await cluster.node("H1", hub, serve=False)
    cred = await _credential(h1)
    assert hub.url
    doc = cluster.document("TU")
    good = cluster.grade("H1", cluster.member("H1").id, doc.id)
    sibling = cluster.grade("H2B1", cluster.member("H2B1").id, doc.id)

    truncated = await _post(hub.url, _push(_batch("essay_grade", [good]))[:-7], credential=cred)
    assert truncated.status_code == 400
    assert "hỏng" in truncated.json()["message_vi"]

    outside = await _post(hub.url, _push(_batch("essay_grade", [good, sibling])), credential=cred)
    assert outside.status_code == 403
    assert outside.json()["code"] == "outside_subtree"
    assert "toàn bộ lô bị từ chối" in outside.json()["message_vi"]
    assert await cluster.ids(hub, ESSAY_GRADE) == set(), "not even the good record of a refused batch is applied"

    big = await _post(hub.url, b"\0" * (hub.settings.http.max_body_bytes + 1), credential=cred)
    assert big.status_code == 413

    old = await _post(hub.url, _push(), credential=cred, protocol="0")
    new = await _post(hub.url, _push(), credential=cred, protocol=str(PROTOCOL + 1))
    assert (old.status_code, new.status_code) == (426, 426)
    assert "nâng cấp" in old.json()["message_vi"]
    assert "cấp trên" in new.json()["message_vi"]

    forged = await _post(hub.url, _push(), credential=cred[:-3] + "abc")
    missing = await _post(hub.url, _push(), credential=None)
    assert (forged.status_code, missing.status_code) == (401, 401)
    assert "đăng ký lại" in forged.json()["message_vi"]

    unknown = await _post(hub.url, _push(_batch("essay_grade", [good]), _batch("future_type", [good])), credential=cred)
    assert unknown.status_code == 200, "an unknown type is refused on its own, the rest applies"
    assert await cluster.ids(hub, ESSAY_GRADE) == {good.id}

    node_id = next(n["node_id"] for n in await hub.parent_service.nodes())
    await hub.parent_service.revoke(uuid.UUID(node_id))
    revoked = await _post(hub.url, _push(), credential=cred)
    assert revoked.status_code == 401

    h2 = await cluster.node("H2", hub, serve=False)
    assert (await cluster.sync(h2)).pulled == 0, "the hub keeps serving"


async def test_one_bad_record_is_refused_alone_and_stays_visible_until_fixed(cluster: Cluster) -> None:
    hub = await cluster.hub()
    h1 = await cluster.node("H1", hub, serve=False)
    doc = cluster.document("TU")
    ok = cluster.grade("H1", cluster.member("H1").id, doc.id, "9")
    bad = msgspec.structs.replace(cluster.grade("H1", cluster.member("H1").id, doc.id, "9"), score=Decimal("11"))
    await cluster.write(h1, ESSAY_GRADE, [ok, bad])

    report = await cluster.sync(h1)
    assert [r.id for r in report.refused] == [bad.id]
    assert "10" in report.refused[0].reason
    assert await cluster.ids(hub, ESSAY_GRADE) == {ok.id}
    async with h1.db.read() as conn:
        assert (await conn.execute(select(Rejection.record_id))).scalars().all() == [bad.id]

    fixed = msgspec.structs.replace(bad, rev=2, score=Decimal("10"))
    await cluster.write(h1, ESSAY_GRADE, [fixed])
    again = await cluster.sync(h1)
    assert again.refused == [], [(r.id == bad.id, r.rev, r.reason) for r in again.refused]
    assert await cluster.held(hub, ESSAY_GRADE) == {ok.id: 1, bad.id: 2}
    async with h1.db.read() as conn:
        assert (await conn.execute(select(Rejection.record_id))).scalars().all() == []


async def test_a_node_restored_from_an_old_backup_converges_and_keeps_its_new_edits(cluster: Cluster) -> None:
    hub = await cluster.hub()
    h1 = await cluster.node("H1", hub, serve=False)
    doc = cluster.document("TU")
    g = cluster.grade("H1", cluster.member("H1").id, doc.id, "6")
    await cluster.write(h1, ESSAY_GRADE, [g])
    await cluster.sync(h1)

    db_file, backup = await back_up(h1)

    lost_edit = msgspec.structs.replace(g, rev=2, score=Decimal("7"), band="Khá")
    made_after_backup = cluster.grade("H1", cluster.member("H1").id, doc.id, "9")
    await cluster.write(h1, ESSAY_GRADE, [lost_edit, made_after_backup])
    await cluster.sync(h1)
    await h1.db.dispose()

    restore(backup, db_file)  # the laptop's disk died; last week's backup is restored
    new_edit = msgspec.structs.replace(g, rev=2, score=Decimal("8"), band="Khá")
    await cluster.write(h1, ESSAY_GRADE, [new_edit])

    report = await cluster.sync(h1)
    report2 = await cluster.sync(h1)
    async with hub.db.read() as conn:
        score = (await conn.execute(select(ESSAY_GRADE.table.c.score).where(ESSAY_GRADE.table.c.id == g.id))).scalar()
    assert score == Decimal("8"), "the edit made after the restore is not dropped as a duplicate"
    assert await cluster.ids(h1, ESSAY_GRADE) == {g.id, made_after_backup.id}, "what only the parent had comes back"
    assert (await cluster.held(h1, ESSAY_GRADE)) == (await cluster.held(hub, ESSAY_GRADE))
    assert report.bumped + report2.bumped >= 1


async def test_a_node_copied_back_from_a_quiet_backup_gets_its_records_back_at_the_next_round(cluster: Cluster) -> None:
    """A backup taken with nothing waiting to push, copied back over the file, and nothing written since: no push
    shows the node went back, so its pull tells the parent its push cursor and the parent answers what it had
    acknowledged. One round brings back what the node made after the backup, and the next round is quiet again."""
    hub = await cluster.hub()
    h1 = await cluster.node("H1", hub, serve=False)
    doc = cluster.document("TU")
    before = cluster.grade("H1", cluster.member("H1").id, doc.id, "6")
    await cluster.write(h1, ESSAY_GRADE, [before])
    await cluster.sync(h1)

    db_file, backup = await back_up(h1)
    made_after_backup = cluster.grade("H1", cluster.member("H1").id, doc.id, "9")
    # Corrected twice, each version synced: three of the node's seqs went up, one row comes back.
    for rev, score in ((1, "9"), (2, "9.5"), (3, "10")):
        await cluster.write(
            h1, ESSAY_GRADE, [msgspec.structs.replace(made_after_backup, rev=rev, score=Decimal(score))]
        )
        await cluster.sync(h1)
    await h1.db.dispose()

    restore(backup, db_file)
    assert await cluster.ids(h1, ESSAY_GRADE) == {before.id}
    report = await cluster.sync(h1)
    assert report.verified
    assert await cluster.ids(h1, ESSAY_GRADE) == {before.id, made_after_backup.id}
    assert (await cluster.held(h1, ESSAY_GRADE)) == (await cluster.held(hub, ESSAY_GRADE))

    # Caught up: later rounds neither verify again nor push what the parent holds, and a new grade goes up.
    assert not (await cluster.sync(h1)).verified
    newer = cluster.grade("H1", cluster.member("H1").id, doc.id, "8")
    await cluster.write(h1, ESSAY_GRADE, [newer])
    report = await cluster.sync(h1)
    assert (report.pushed, report.verified) == (1, False)
    assert newer.id in await cluster.ids(hub, ESSAY_GRADE)


async def test_d1a_a_unit_moved_to_another_district_leaves_the_old_one_with_its_personal_data(cluster: Cluster) -> None:
    hub = await cluster.hub()
    h1, h2 = await cluster.node("H1", hub), await cluster.node("H2", hub)
    b = await cluster.node("H1B1", h1, serve=False)
    doc = cluster.document("TU")
    member = cluster.member("H1B1")
    grade = cluster.grade("H1B1", member.id, doc.id)
    await cluster.write(b, MEMBER, [member])
    await cluster.write(b, ESSAY_GRADE, [grade])
    for node in (b, h1, h2):
        await cluster.sync(node)
    assert await cluster.ids(h1, MEMBER) == {member.id}

    async with hub.db.write() as conn:
        tree = await load_tree(conn)
        await store_units(conn, [move(tree, cluster.units["H1B1"].id, cluster.units["H2"].id, date(2025, 7, 1))])
    report = await cluster.sync(h1)
    assert report.verified
    assert await cluster.ids(h1, MEMBER) == set(), "personal data leaves the district that lost the unit"
    assert await cluster.ids(h1, ESSAY_GRADE) == set()
    assert cluster.units["H1B1"].id not in await cluster.ids(h1, UNIT)
    await cluster.sync(h2)
    assert await cluster.ids(h2, ESSAY_GRADE) == {grade.id}, "the new district gets what the hub holds"

    await cluster.enrol(b, h2, priority=-1)
    await cluster.sync(b)
    assert await cluster.ids(h2, MEMBER) == {member.id}, "and the roster, once the base syncs with it"


async def test_verify_repairs_a_copy_that_lost_rows(cluster: Cluster) -> None:
    hub = await cluster.hub()
    h1 = await cluster.node("H1", hub, serve=False)
    docs = [cluster.document("TU", number=f"{n}-NQ/TU") for n in range(10, 40)]
    await cluster.write(hub, DOCUMENT, docs)
    await cluster.sync(h1)
    async with h1.db.write() as conn:
        await conn.execute(delete(DOCUMENT.table).where(DOCUMENT.table.c.id.in_([d.id for d in docs[:7]])))
    assert len(await cluster.ids(h1, DOCUMENT)) == 23
    report = await cluster.sync(h1, verify=True)
    assert report.repaired == 7
    assert await cluster.held(h1, DOCUMENT) == await cluster.held(hub, DOCUMENT)
