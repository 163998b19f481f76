"""D27: every local write leaves one append-only audit entry, in the same transaction, naming who, what and where.

Each test runs on SQLite and on PostgreSQL (the `api` fixture's database is parametrised over both).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import msgspec
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from shared.accounts.cli import user_commands
from shared.audit.actor import Actor, acting
from shared.audit.hook import apply_local
from shared.audit.records import AUDIT_ENTRY, AUDIT_PERSONAL, AuditEntryRecord, validate
from shared.catalogue import build_registry
from shared.db.engine import Database
from shared.db.migrate import upgrade
from shared.members.records import MEMBER
from shared.settings import sqlite_url
from shared.sync import store
from tests.domain_harness import Api, Maker, make_units, seed, xlsx

V = "/api/v1"


async def me(api: Api, who: tuple[str, str]) -> dict[str, Any]:
    return dict(await api.ok("GET", f"{V}/auth/me", who))


async def trail(api: Api, who: tuple[str, str] = ("TU", "admin"), **params: Any) -> list[dict[str, Any]]:
    page = await api.ok("GET", f"{V}/audit", who, params=params)
    return list(page["entries"])


def fields(entry: dict[str, Any]) -> dict[str, tuple[str | None, str | None]]:
    return {c["field"]: (c["old"], c["new"]) for c in entry["changes"]}


async def test_d27_api_create_edit_delete_of_a_grade_each_leave_who_what_and_the_changed_fields(api: Api) -> None:
    mk = Maker(api)
    doc, member = await mk.doc("TU"), await mk.member("H1B1")
    enterer, corrector = ("H1B1", "editor"), ("H1B1", "admin")
    grade = await api.ok(
        "POST",
        f"{V}/essays",
        enterer,
        json={"member": member["id"], "document": doc["id"], "score": "6,5", "graded_on": "2021-05-01"},
    )
    await api.ok("PATCH", f"{V}/essays/{grade['id']}", corrector, json={"score": "8,0", "rev": 1})
    await api.ok("DELETE", f"{V}/essays/{grade['id']}", corrector)
    entries = await trail(api, record_id=grade["id"])
    assert [(e["action"], e["record_rev"]) for e in entries] == [("delete", 3), ("update", 2), ("create", 1)]
    deleted, updated, created = entries
    assert created["username"] == (await me(api, enterer))["username"]
    assert updated["username"] == deleted["username"] == (await me(api, corrector))["username"]
    assert created["role"] == "editor"
    assert updated["role"] == "admin"
    assert created["actor_unit_code"] == "H1B1"
    assert created["unit_code"] == "H1B1"
    assert created["via"] == "api"
    assert created["address"], "from where: the client's address"
    assert created["instance_code"] == "tỉnh (máy chủ)", "written on the hub (H1B1 has no node of its own)"
    assert fields(created)["score"] == (None, "6.5")
    assert set(fields(updated)) == {"score", "band"}, "only what changed"
    assert fields(updated)["score"] == ("6.5", "8")
    assert fields(deleted) == {}, "a tombstone of a grade changes no field but `deleted`"


async def test_d27_a_refused_write_leaves_no_entry(api: Api) -> None:
    mk = Maker(api)
    member = await mk.member("H1B1")
    before = await trail(api)
    # H2B1's editor may not write a grade for H1B1 (D4): refused, and the log says nothing happened.
    response = await api.call(
        "PATCH", f"{V}/members/{member['id']}", ("H2B1", "editor"), json={"full_name": "Tên khác", "rev": 1}
    )
    assert response.status_code == 404
    assert await trail(api) == before


async def test_d27_import_entries_say_they_came_from_a_file(api: Api) -> None:
    mk = Maker(api)
    doc, member = await mk.doc("TU"), await mk.member("H1B1")
    content = xlsx([["Mã đảng viên", "Điểm", "Ngày chấm"], [member["id"], 8.5, "2021-05-01"]])
    params = {"document": doc["id"], "graded_on": "2021-05-01"}
    files = {"data": ("grades.xlsx", content)}
    await api.ok("POST", f"{V}/essays/import", ("H1B1", "editor"), files=files, params=params)
    (entry,) = await trail(api, record_type="essay_grade")
    assert entry["via"] == "import"
    assert entry["action"] == "create"
    assert fields(entry)["score"] == (None, "8.5")


async def test_d27_member_entries_are_personal_and_their_filters_and_export_work(api: Api) -> None:
    mk = Maker(api)
    member = await mk.member("H1B1")
    await api.ok("PATCH", f"{V}/members/{member['id']}", ("H1B1", "editor"), json={"note": "Chuyển sinh hoạt"})
    async with api.db.read() as conn:
        personal = (await conn.execute(select(AUDIT_PERSONAL.table.c.record_id))).scalars().all()
        general = (await conn.execute(select(AUDIT_ENTRY.table.c.record_type))).scalars().all()
    assert personal == [uuid.UUID(member["id"])] * 2, "a member's entries are of the type that stops at the parent"
    assert "member" not in general
    editor = (await me(api, ("H1B1", "editor")))["username"]
    assert [e["action"] for e in await trail(api, username=editor)] == ["update"]
    assert await trail(api, since="2000-01-01", until="2000-12-31") == []
    assert len(await trail(api, ("H1B1", "admin"), record_type="member")) == 2
    assert await trail(api, ("H2B1", "admin"), record_type="member") == [], "another unit's log is not shown (D4)"
    response = await api.call("GET", f"{V}/audit/export", params={"record_type": "member"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == "Thời điểm (giờ của máy ghi)"
    assert len(rows) == 4
    assert "note:  → Chuyển sinh hoạt" in str(rows[2][12])


async def test_d27_the_log_is_for_admins_only(api: Api) -> None:
    for role in ("viewer", "editor"):
        response = await api.call("GET", f"{V}/audit", ("TU", role))
        assert response.status_code == 403
    mk = Maker(api)
    await mk.member("H1B1")
    for role, status in (("editor", 403), ("admin", 200)):
        token = api.as_("H1", role)["Authorization"].removeprefix("Bearer ")
        api.client.cookies.set("nqsync_session", token)
        page = await api.client.get("/nhat-ky", params={"record_type": "member"})
        assert page.status_code == status, role
    assert "giờ của máy ghi" in page.text
    assert "Tạo mới" in page.text
    assert "full_name" in page.text
    bad = await api.client.get("/nhat-ky", params={"since": "31/02/2024"})
    assert bad.status_code == 422
    assert "Không có ngày 31/02/2024" in bad.text


async def test_d27_paging_returns_every_entry_once(api: Api) -> None:
    mk = Maker(api)
    for _ in range(5):
        await mk.member("H1B1")
    seen: list[str] = []
    after = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"after": after} if after else {})}
        page = await api.ok("GET", f"{V}/audit", params=params)
        seen.extend(e["id"] for e in page["entries"])
        after = page["next_after"]
        if after is None:
            break
    assert len(seen) == len(set(seen)) == 5


async def test_d27_entries_are_append_only_at_any_parent() -> None:
    """A pushed entry with rev 2 or a tombstone is refused by the type's own check, wherever it arrives."""
    entry = AuditEntryRecord(
        id=uuid.uuid4(),
        owner=uuid.uuid4(),
        audience=None,
        rev=1,
        deleted=False,
        record_type="essay_grade",
        record_id=uuid.uuid4(),
        record_rev=1,
        action="create",
        changes=[],
        account=None,
        username="x",
        full_name="",
        actor_unit=None,
        role="editor",
        via="api",
        instance=None,
        address="",
        at=datetime.now(UTC),
    )

    assert validate(entry) is None
    assert validate(msgspec.structs.replace(entry, rev=2)) is not None
    assert validate(msgspec.structs.replace(entry, deleted=True)) is not None


async def test_d27_every_record_type_has_an_audit_type_no_higher_than_itself() -> None:
    from shared.audit.records import entry_type

    for rt in build_registry():
        target = entry_type(rt)
        assert rt.ceiling is None or (target.ceiling is not None and target.ceiling <= rt.ceiling), rt.name


async def test_d27_a_write_under_an_actor_and_its_entry_share_one_transaction(db: Database) -> None:
    units = make_units()
    await seed(db, units)
    member = MEMBER.struct(uuid.uuid4(), units["H1B1"].id, None, 1, False, "Nguyễn Văn B", 1975, "obliged")  # type: ignore[call-arg]
    cli = Actor(None, "cli:test", None, "", "cli")
    with contextlib.suppress(RuntimeError), acting(cli):
        async with db.write() as conn:
            await apply_local(conn, MEMBER, [member])
            raise RuntimeError("rolled back")
    async with db.read() as conn:
        assert await store.fetch(conn, AUDIT_PERSONAL, [member.id]) == []
        assert (await conn.execute(select(AUDIT_PERSONAL.table.c.id))).first() is None
    with acting(cli):
        async with db.write() as conn:
            await apply_local(conn, MEMBER, [member])
            await apply_local(conn, MEMBER, [member])  # a repeated write is ignored: no second entry
    async with db.read() as conn:
        rows = (await conn.execute(select(AUDIT_PERSONAL.table.c.username, AUDIT_PERSONAL.table.c.via))).all()
    assert [tuple(r) for r in rows] == [("cli:test", "cli")]


def test_d27_user_add_on_the_command_line_is_in_the_trail(tmp_path: Path) -> None:
    units = make_units()
    path = tmp_path / "nqsync.sqlite3"

    async def prepare() -> None:
        db = Database(sqlite_url(path))
        await upgrade(db)
        await seed(db, units)
        await db.dispose()

    async def entries() -> list[Any]:
        db = Database(sqlite_url(path))
        async with db.read() as conn:
            rows = (await conn.execute(select(AUDIT_ENTRY.table))).all()
        await db.dispose()
        return list(rows)

    asyncio.run(prepare())
    group = click.Group("server")
    user_commands(group)
    args = ["user-add", "--data", str(tmp_path), "--unit", "H1", "--role", "admin", "--username", "bithu"]
    result = CliRunner().invoke(group, [*args, "--password-stdin"], input="mot-mat-khau-dai\n")
    assert result.exit_code == 0, result.output
    (entry,) = asyncio.run(entries())
    assert entry.record_type == "account"
    assert entry.via == "cli"
    assert entry.username.startswith("cli:")
    assert entry.owner == units["TU"].id, "the hub's own entry: owned by the root"
    assert {c["field"] for c in entry.changes} == {"username", "full_name", "unit", "role"}
    assert "password" not in str(entry.changes)
