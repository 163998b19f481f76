"""Upgrading a hub made by the first released schema (207be3fda625) to head with the commands an operator runs.

The data is tests/golden/upgrade/207be3fda625.json: every row of a hub database that the code of that release
wrote (its sync API stored what a district and a base node pushed; see seed_207be3fda625.py beside it). The test
builds that database on SQLite and on PostgreSQL with the release's own migration, runs `nqsync server check`
(behind), `nqsync server init` (the upgrade), `check` again (at head), then reads every record through the API of a
real `nqsync server serve`, and enrols a node of today that pulls the old rows over the sync API and decodes them.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from shared.db.engine import Database
from shared.db.migrate import alembic_config, head_revision
from shared.db.models import metadata
from shared.settings import sqlite_url
from tests.conftest import _admin, _sa_url
from tests.deploy.processes import FIRST_PASSWORD, env, nqsync, ok, signed_in
from tests.harness import serving

FIRST_RELEASE = "207be3fda625"
FIXTURE = Path(__file__).resolve().parents[1] / "golden" / "upgrade" / f"{FIRST_RELEASE}.json"


def _value(v: Any) -> Any:
    if not isinstance(v, dict):
        return v
    ((kind, raw),) = v.items()
    if kind == "bytes":
        return base64.b64decode(raw)
    if kind == "uuid":
        return uuid.UUID(raw)
    if kind == "date":
        return date.fromisoformat(raw)
    if kind == "decimal":
        return Decimal(raw)
    moment = datetime.fromisoformat(raw)  # SQLite kept it naive; it was UTC
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _fixture() -> dict[str, list[dict[str, Any]]]:
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert data["revision"] == FIRST_RELEASE
    return {name: [{k: _value(v) for k, v in row.items()} for row in rows] for name, rows in data["tables"].items()}


ROWS = _fixture()


def _build_old(conn: Connection) -> None:
    """The release's schema (its own migration) holding its rows, inserted column by column as it had them."""
    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, FIRST_RELEASE)
    for name, rows in ROWS.items():
        if rows:
            # A bare table clause of the old columns: today's table would add its newer columns' defaults.
            now = metadata.tables[name]
            old = sa.table(name, *(sa.column(col, now.c[col].type) for col in rows[0]))
            conn.execute(sa.insert(old), rows)


async def _documents(url: str) -> dict[uuid.UUID, tuple[str, str, str]]:
    db = Database(url)
    try:
        async with db.read() as conn:
            # Through the table's column types: SQLite holds ids as 16-byte blobs since d7b10b5e16a1.
            docs = metadata.tables["documents"]
            rows = await conn.execute(sa.select(docs.c.id, docs.c.number, docs.c.title, docs.c.term))
            return {r.id: (r.number, r.title, r.term) for r in rows}
    finally:
        await db.dispose()


async def _revision(url: str) -> str:
    db = Database(url)
    try:
        async with db.read() as conn:
            return str((await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).scalar_one())
    finally:
        await db.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def old_hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database at the first released schema, holding that release's data."""
    name = f"nqsync_up_{uuid.uuid4().hex[:12]}"
    if request.param == "sqlite":
        url = sqlite_url(tmp_path / "hub" / "nqsync.sqlite3")
        (tmp_path / "hub").mkdir()
    else:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
        url = _sa_url(name)

    async def build() -> None:
        db = Database(url)
        async with db.write() as conn:
            await conn.run_sync(_build_old)
        await db.dispose()

    asyncio.run(build())
    yield url
    if request.param == "postgresql":
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _only(rows: list[dict[str, Any]], key: str = "id") -> dict[str, dict[str, Any]]:
    return {str(r[key]): r for r in rows}


def test_a_hub_of_the_first_release_upgrades_to_head_and_serves_every_record(old_hub: str, tmp_path: Path) -> None:
    data = str(tmp_path / "hub")
    head = head_revision()
    assert head not in (None, FIRST_RELEASE)
    before = nqsync("server", "check", "--data", data, "--database-url", old_hub)
    assert before.returncode != 0, before.stdout
    since = len(list(ScriptDirectory.from_config(alembic_config()).iterate_revisions("head", FIRST_RELEASE)))
    assert since >= 8, "8 migrations came between the first release and ba5e0e90c4a1 alone"
    assert f"LỖI       Cơ sở dữ liệu: chưa nâng cấp: chậm {since} bản nâng cấp" in before.stdout, before.stdout
    assert asyncio.run(_revision(old_hub)) == FIRST_RELEASE, "check only reads: it must not upgrade"

    assert "Cơ sở dữ liệu sẵn sàng" in ok("server", "init", "--data", data, "--database-url", old_hub)
    assert asyncio.run(_revision(old_hub)) == head
    after = nqsync("server", "check", "--data", data, "--database-url", old_hub)
    assert f"OK        Cơ sở dữ liệu: lược đồ mới nhất ({head})" in after.stdout, after.stdout
    assert "LỖI" not in after.stdout, after.stdout

    ok("server", "user-add", "--data", data, "--database-url", old_hub, "--unit", "TU", "--role", "admin",
       "--username", "tinhuy", "--password-stdin", stdin=FIRST_PASSWORD + "\n")  # fmt: skip
    args = ("server", "serve", "--data", data, "--database-url", old_hub)
    with serving(*args, env=env(), log=tmp_path / "hub.log") as hub, signed_in(hub.url, "tinhuy") as api:
        units = {u["id"]: u for u in api.get("/units").json()}
        for unit in ROWS["units"]:
            got = units[str(unit["id"])]
            assert (got["code"], got["name"], got["depth"]) == (unit["code"], unit["name"], unit["depth"])
            assert got["parent"] == (str(unit["parent"]) if unit["parent"] else None)
        assert len(units) == len(ROWS["units"])

        for doc in ROWS["documents"]:
            got = api.get(f"/documents/{doc['id']}").json()
            for field in ("number", "title", "issuer", "lead_agency", "rev"):
                assert got[field] == doc[field], (field, got)
            assert got["signed_on"] == doc["signed_on"].isoformat()
            assert got["unit"] == str(doc["owner"])
            assert (got["applies_to"], got["continues"], got["replaces"]) == ([], None, None)
            assert (got["term"], got["level"]) == ("", ""), "columns added since take their defaults"

        for member in ROWS["members"]:
            got = api.get(f"/members/{member['id']}").json()
            for field in ("full_name", "birth_year", "obligation", "post", "rev"):
                assert got[field] == member[field], (field, got)
            assert (got["rural_cell"], got["note"]) == (False, "")

        for grade in ROWS["essay_grades"]:
            got = api.get(f"/essays/{grade['id']}").json()
            assert Decimal(str(got["score"])) == grade["score"]
            for field in ("band", "attempt", "obligation", "rev"):
                assert got[field] == grade[field], (field, got)
            for field in ("member", "member_unit", "document"):
                assert got[field] == str(grade[field]), (field, got)
            assert got["graded_on"] == grade["graded_on"].isoformat()
        assert [len(ROWS[t]) for t in ("documents", "members", "essay_grades")] == [2, 1, 2]

        # The enrolled district node of that release is still known, with its acknowledged place in the feed.
        nodes = api.get("/sync/nodes").json()
        assert [n["unit_code"] for n in nodes] == ["H1"]
        assert nodes[0]["node_id"] == str(ROWS["child_nodes"][0]["id"])

        # A node of today enrolling now pulls the rows as that release encoded them (the hub relays wire bytes as
        # stored) and decodes them: the province's resolution reaches district H2.
        code = re.search(r"[A-Z0-9]{4}(?:-[A-Z0-9]{4}){3}", ok("server", "enroll", "H2", "--data", data,
                                                               "--database-url", old_hub))  # fmt: skip
        assert code
        node = tmp_path / "H2"
        init = ok("node", "init", "--data", str(node), "--parent", hub.url, "--code", code[0])
        assert "Đồng bộ xong" in init, init
    held = asyncio.run(_documents(sqlite_url(node / "nqsync.sqlite3")))
    (resolution,) = [d for d in ROWS["documents"] if d["number"] == "15-NQ/TU"]
    assert held == {resolution["id"]: (resolution["number"], resolution["title"], "")}
