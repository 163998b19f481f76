"""D27 done-when: the province sees who at which base entered and who changed a grade, after it synced up through
a district; a member's entries stop at the district (ceiling); the base's log comes back after a restore.

A hub on PostgreSQL, a district node and a base node on SQLite files, each its own server on loopback, synced by
the real agent over HTTP (tests/harness.py).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from shared.accounts.service import create_user, open_session
from shared.audit.records import AUDIT_ENTRY, AUDIT_PERSONAL
from tests.domain_harness import password_hash
from tests.harness import DOCUMENT, Cluster, Instance

V = "/api/v1"


@pytest.fixture
async def cluster(tmp_path: Path, make_database_url) -> AsyncIterator[Cluster]:  # type: ignore[no-untyped-def]
    c = Cluster(tmp_path, make_database_url)
    yield c
    await c.close()


async def sign_in(inst: Instance, unit: uuid.UUID, role: str, username: str) -> httpx.AsyncClient:
    """An account on this instance (accounts are local), signed in: a client carrying its session."""
    async with inst.db.write() as conn:
        user = await create_user(conn, username=username, unit=unit, role=role, password_hash=password_hash())
        token = await open_session(conn, user)
    assert inst.url
    return httpx.AsyncClient(
        base_url=inst.url, headers={"Authorization": f"Bearer {token}"}, cookies={"nqsync_session": token}
    )


async def ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, (response.request.url, response.status_code, response.text)
    return response.json() if response.content else None


def restore(backup: Path, db_file: Path) -> None:
    shutil.copyfile(backup, db_file)
    for suffix in ("-wal", "-shm"):
        Path(str(db_file) + suffix).unlink(missing_ok=True)


async def ids_of(inst: Instance, table: Any) -> set[uuid.UUID]:
    async with inst.db.read() as conn:
        return set((await conn.execute(select(table.c.id))).scalars())


async def test_d27_the_province_sees_who_at_which_base_entered_and_changed_a_grade(cluster: Cluster) -> None:
    hub = await cluster.hub()
    district = await cluster.node("H1", hub)
    base = await cluster.node("H1B1", district)
    doc = cluster.document("TU")
    await cluster.write(hub, DOCUMENT, [doc])
    await cluster.sync(district)
    await cluster.sync(base)  # the province's document reaches the base through its district

    base_unit = cluster.units["H1B1"].id
    backup = Path(base.settings.database.url.split("///", 1)[1])
    await base.db.dispose()
    shutil.copyfile(backup, backup.with_suffix(".backup"))

    clerk = await sign_in(base, base_unit, "editor", "can-bo-nhap")
    secretary = await sign_in(base, base_unit, "admin", "bi-thu-co-so")
    async with clerk, secretary:
        member = await ok(await clerk.post(f"{V}/members", json={"full_name": "Trần Thị C", "birth_year": 1979}))
        body = {"member": member["id"], "document": str(doc.id), "score": "6,5", "graded_on": "2024-05-02"}
        grade = await ok(await clerk.post(f"{V}/essays", json=body))
        await ok(await secretary.patch(f"{V}/essays/{grade['id']}", json={"score": "8,5", "rev": 1}))

    await cluster.sync(base)  # base → district
    await cluster.sync(district)  # district → province

    province = await sign_in(hub, cluster.units["TU"].id, "admin", "tinh-uy")
    async with province:
        page = await ok(await province.get(f"{V}/audit", params={"record_id": grade["id"]}))
        changed, entered = page["entries"]
        assert (entered["username"], entered["action"], entered["role"]) == ("can-bo-nhap", "create", "editor")
        assert (changed["username"], changed["action"], changed["role"]) == ("bi-thu-co-so", "update", "admin")
        for entry in (entered, changed):
            assert entry["instance_code"] == "H1B1", "written on the base's own node"
            assert entry["actor_unit_code"] == "H1B1"
            assert entry["unit_code"] == "H1B1"
            assert entry["address"] == "127.0.0.1"
        assert {c["field"]: (c["old"], c["new"]) for c in changed["changes"]}["score"] == ("6.5", "8.5")
        assert page["clock_note"].startswith("Giờ theo đồng hồ của máy")
        html = await province.get("/nhat-ky", params={"record_type": "essay_grade"})
        assert html.status_code == 200
        for text in ("can-bo-nhap", "bi-thu-co-so", "H1B1", "6.5 → 8.5", "giờ của máy ghi"):
            assert text in html.text, text
        members_at_province = await ok(await province.get(f"{V}/audit", params={"record_type": "member"}))
        assert members_at_province["entries"] == []

    # D12 ceiling: the member's entry reached the district, never the province.
    base_personal = await ids_of(base, AUDIT_PERSONAL.table)
    assert len(base_personal) == 1
    assert await ids_of(district, AUDIT_PERSONAL.table) == base_personal
    assert await ids_of(hub, AUDIT_PERSONAL.table) == set()

    # The base's laptop dies; yesterday's backup is restored: its log comes back from the district.
    base_entries = await ids_of(base, AUDIT_ENTRY.table)
    await cluster.stop_serving(base)
    await base.db.dispose()
    restore(backup.with_suffix(".backup"), backup)
    assert await ids_of(base, AUDIT_ENTRY.table) == set()
    await cluster.sync(base)
    await cluster.sync(base)
    assert await ids_of(base, AUDIT_ENTRY.table) == base_entries
    assert await ids_of(base, AUDIT_PERSONAL.table) == base_personal
