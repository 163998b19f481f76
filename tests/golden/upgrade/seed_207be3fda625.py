"""Writes tests/golden/upgrade/207be3fda625.json: a hub database as the first released schema's code made it.

Run with the code of that release on the path, not this checkout's (the fixture is data written by old code):

    git archive b607b4f | tar -x -C /tmp/nqsync-207be3fda625
    PYTHONPATH=/tmp/nqsync-207be3fda625 uv run --no-sync python tests/golden/upgrade/seed_207be3fda625.py OUT.json

b607b4f is the last commit whose newest migration is 207be3fda625. The hub enrols a district node (H1) and a base
node below it (H1B1) over real HTTP; each writes the records its unit owns, and the nodes sync up, so the hub holds
rows of every synced type of that release (units, documents, members, essay grades) as its sync API stored them.
"""

import asyncio
import base64
import json
import sys
import tempfile
import uuid
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select, text

from shared.db.engine import Database
from shared.db.migrate import upgrade
from shared.db.models import metadata
from shared.settings import sqlite_url
from tests.harness import DOCUMENT, ESSAY_GRADE, MEMBER, Cluster


def _plain(value: object) -> object:
    if isinstance(value, bytes):
        return {"bytes": base64.b64encode(value).decode()}
    if isinstance(value, uuid.UUID):
        return {"uuid": str(value)}
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    return value


async def main(out: Path) -> None:
    tmp = Path(tempfile.mkdtemp())

    async def make_url(backend: str) -> str:
        url = sqlite_url(tmp / f"{backend}-{uuid.uuid4().hex[:6]}.sqlite3")
        db = Database(url)
        await upgrade(db)
        await db.dispose()
        return url

    cluster = Cluster(tmp, make_url)
    hub = await cluster.hub("sqlite")
    resolution = cluster.document("TU", "15-NQ/TU")
    await cluster.write(hub, DOCUMENT, [resolution])
    h1 = await cluster.node("H1", hub)
    b1 = await cluster.node("H1B1", h1)
    await cluster.write(h1, DOCUMENT, [cluster.document("H1", "03-NQ/HU")])
    member_h1 = cluster.member("H1", "Trần Thị Bình")
    await cluster.write(h1, MEMBER, [member_h1])
    await cluster.write(h1, ESSAY_GRADE, [cluster.grade("H1", member_h1.id, resolution.id, "8.75")])
    member_b1 = cluster.member("H1B1", "Nguyễn Văn An")
    await cluster.write(b1, MEMBER, [member_b1])
    await cluster.write(b1, ESSAY_GRADE, [cluster.grade("H1B1", member_b1.id, resolution.id, "6.5")])
    for _ in range(2):
        await cluster.sync(b1)
        await cluster.sync(h1)
    tables: dict[str, list[dict[str, object]]] = {}
    async with hub.db.read() as conn:
        revision = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
        for table in metadata.sorted_tables:
            rows = (await conn.execute(select(table))).mappings().all()
            tables[table.name] = [{k: _plain(v) for k, v in row.items()} for row in rows]
    await cluster.close()
    out.write_text(  # noqa: ASYNC240  (a one-off script, nothing else runs)
        json.dumps({"revision": revision, "tables": tables}, ensure_ascii=False, indent=1) + "\n"
    )
    print({name: len(rows) for name, rows in tables.items()})


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
