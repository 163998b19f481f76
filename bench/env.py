"""What every benchmark needs: the machine it ran on, statistics, databases, a hub process, nodes, records.

Nothing here is timed; the benchmarks in `bench.cases` time only the step they name.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import platform
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import asyncpg
import uvicorn
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from shared.db.engine import Database
from shared.db.migrate import upgrade
from shared.domain.grades import band_of
from shared.domain.tree import Unit, UnitKind, Version
from shared.essays.records import EssayGradeRecord
from shared.ids import new_id
from shared.settings import sqlite_url
from shared.sync.parent import _digest_secret
from shared.sync.tables import ChildNode, Identity, Upstream
from shared.units.records import store_units

ADMIN_URL = os.environ.get(
    "NQSYNC_BENCH_DATABASE_URL",
    os.environ.get("NQSYNC_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"),
)
DAY = dt.date(2024, 1, 1)


# The machine


def machine() -> dict[str, str]:
    """What the figures were measured on (they mean nothing without it)."""
    cpu = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "unknown"
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram": ram,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": "unknown",
        "load at start (1/5/15 min)": load,
        "os": platform.platform(),
    }


async def postgres_version() -> str:
    conn = await asyncpg.connect(dsn())
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


# Statistics


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs)


def percentile(xs: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); the value a p% share of samples do not exceed."""
    s = sorted(xs)
    if not s:
        return float("nan")
    k = max(0, min(len(s) - 1, round(p / 100 * len(s) + 0.5) - 1))
    return s[k]


def spread(xs: Sequence[float]) -> str:
    """Min–max of repeated runs, as a share of the median: how noisy the figure was."""
    if len(xs) < 2:
        return "1 run"
    m = median(xs)
    return f"{len(xs)} runs, ±{(max(xs) - min(xs)) / 2 / m * 100:.0f}%"


# PostgreSQL databases


def dsn(database: str | None = None) -> str:
    u = make_url(ADMIN_URL)
    if database:
        u = u.set(database=database)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def sa_url(database: str) -> str:
    return (
        make_url(ADMIN_URL)
        .set(drivername="postgresql+asyncpg", database=database)
        .render_as_string(hide_password=False)
    )


async def admin(sql: str) -> None:
    conn = await asyncpg.connect(dsn())
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


class Databases:
    """Fresh PostgreSQL databases copied from one migrated template, dropped at the end of the run."""

    def __init__(self) -> None:
        self.prefix = f"nqbench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.template = f"{self.prefix}_tpl"
        self.created: list[str] = []

    async def start(self) -> None:
        await admin(f'CREATE DATABASE "{self.template}"')
        self.created.append(self.template)
        db = Database(sa_url(self.template))
        await upgrade(db)
        await db.dispose()

    async def fresh(self, *, empty: bool = False) -> str:
        """A migrated database, or with `empty` one without even the schema (what a restore starts from)."""
        name = f"{self.prefix}_{len(self.created)}"
        template = "template0" if empty else self.template
        await admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        self.created.append(name)
        return name

    async def drop(self) -> None:
        for name in reversed(self.created):
            with contextlib.suppress(Exception):
                await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class SqliteTemplate:
    """A migrated SQLite file, copied for each new node (migrations are not what is measured)."""

    def __init__(self, tmp: Path) -> None:
        self.path = tmp / "template.sqlite3"

    async def start(self) -> None:
        db = Database(sqlite_url(self.path))
        await upgrade(db)
        await db.dispose()

    def copy(self, dest: Path) -> Path:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.path, dest)
        return dest


# The unit tree


@dataclass
class Tree:
    """Province → districts → base units; the first base unit also has cells (the bootstrap's subtree)."""

    root: Unit
    districts: list[Unit]
    bases: list[Unit]
    cells: list[Unit]

    @property
    def all(self) -> list[Unit]:
        return [self.root, *self.districts, *self.bases, *self.cells]

    def bases_of(self, district: Unit) -> list[Unit]:
        return [b for b in self.bases if b.current.parent == district.id]


def _unit(code: str, parent: Unit | None, depth: int, kind: UnitKind) -> Unit:
    uid = new_id()
    version = Version(DAY, code, f"Đơn vị {code}", parent.id if parent else None, f"cấp {depth}", kind)
    return Unit(id=uid, armed_forces=False, valid_from=DAY, valid_to=None, versions=(version,))


def build_tree(districts: int, bases_per_district: int, cells: int) -> Tree:
    root = _unit("TU", None, 0, UnitKind.COMMITTEE)
    ds = [_unit(f"H{i:02d}", root, 1, UnitKind.COMMITTEE) for i in range(districts)]
    bs = [
        _unit(f"H{i:02d}B{j:03d}", d, 2, UnitKind.BASE_ORGANISATION)
        for i, d in enumerate(ds)
        for j in range(bases_per_district)
    ]
    cs = [_unit(f"{bs[0].current.code}C{k:02d}", bs[0], 3, UnitKind.CELL) for k in range(cells)]
    return Tree(root, ds, bs, cs)


# Records


SCORES = [Decimal(f"{s / 4:.2f}") for s in range(8, 41)]
OBLIGATIONS = ["obliged", "encouraged"]


def grades(owners: Sequence[uuid.UUID], n: int, seed: int = 7) -> list[EssayGradeRecord]:
    """`n` essay grades spread over `owners`, with realistic variety (members, documents, scores, days)."""
    rnd = random.Random(seed)
    documents = [uuid.UUID(int=rnd.getrandbits(128), version=4) for _ in range(12)]
    out = []
    for i in range(n):
        owner = owners[i % len(owners)]
        score = rnd.choice(SCORES)
        out.append(
            EssayGradeRecord(
                id=new_id(),
                owner=owner,
                audience=None,
                rev=1,
                deleted=False,
                member=uuid.UUID(int=rnd.getrandbits(128), version=4),
                member_unit=owner,
                document=rnd.choice(documents),
                attempt=1 if rnd.random() < 0.9 else 2,
                score=score,
                band=str(band_of(score)),
                graded_on=DAY + dt.timedelta(days=rnd.randrange(365)),
                obligation=rnd.choice(OBLIGATIONS),
            )
        )
    return out


# A hub: its database, its tree, its credentials, its process


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def nqsync_exe() -> str:
    beside = Path(sys.executable).with_name("nqsync")
    return str(beside) if beside.exists() else (shutil.which("nqsync") or "nqsync")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Hub:
    database: str
    db: Database
    tree: Tree
    tmp: Path
    url: str = ""
    proc: subprocess.Popen[bytes] | None = None
    server: uvicorn.Server | None = None
    task: asyncio.Task[None] | None = None
    credentials: dict[uuid.UUID, str] = field(default_factory=dict)

    @classmethod
    async def create(cls, dbs: Databases, tree: Tree, tmp: Path) -> Hub:
        name = await dbs.fresh()
        db = Database(sa_url(name))
        async with db.write() as conn:
            await store_units(conn, tree.all)
            await conn.execute(insert(Identity).values(id=1, role="hub", unit=None, created_at=now()))
        return cls(name, db, tree, tmp)

    async def enrol(self, units: Sequence[Unit]) -> None:
        """Credentials for nodes of `units`, written straight into the hub (enrolment is not what is measured)."""
        rows = []
        for unit in units:
            node_id = uuid.uuid4()
            secret = uuid.uuid4().hex + uuid.uuid4().hex
            self.credentials[unit.id] = f"{node_id}.{secret}"
            rows.append(
                {
                    "id": node_id,
                    "unit": unit.id,
                    "secret_hash": _digest_secret(secret),
                    "label": unit.current.code,
                    "enrolled_at": now(),
                    "software": "bench",
                    "protocol": 1,
                    "acked_push": 0,
                    "pull_cursor": 0,
                    "child_pending": 0,
                    "rejected": 0,
                }
            )
        async with self.db.write() as conn:
            for i in range(0, len(rows), 1000):
                await conn.execute(insert(ChildNode), rows[i : i + 1000])

    async def start(self, workers: int = 1, *, in_process: bool = False) -> None:
        """Serve the hub: `nqsync server serve` in its own process, or (quick mode, where start-up would be most
        of the run) the same app under uvicorn in this process."""
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        if in_process:
            from shared.app import create_app
            from shared.settings import DatabaseSettings, Settings

            settings = Settings(data_dir=self.tmp / "hub", database=DatabaseSettings(url=sa_url(self.database)))
            config = uvicorn.Config(create_app(settings, role="hub"), host="127.0.0.1", port=port, log_level="error")
            self.server = uvicorn.Server(config)
            self.task = asyncio.create_task(self.server.serve())
            while not self.server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
                await asyncio.sleep(0.01)
            return
        env = {**os.environ, "NQSYNC_DATABASE_URL": sa_url(self.database)}
        args = ["server", "serve", "--data", str(self.tmp / "hub"), "--port", str(port), "--workers", str(workers)]
        self.proc = subprocess.Popen([nqsync_exe(), *args], env=env, stdout=subprocess.DEVNULL)  # noqa: ASYNC220
        wait_http(port, self.proc)

    async def stop(self) -> None:
        if self.server is not None and self.task is not None:
            self.server.should_exit = True
            await self.task
            self.server = self.task = None
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    async def close(self) -> None:
        await self.stop()
        await self.db.dispose()


def wait_http(port: int, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> float:
    """Seconds until GET /health answers 200 on `port`."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with status {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            if s.recv(64).startswith(b"HTTP/1.1 200"):
                return time.perf_counter() - start
        time.sleep(0.005)
    raise RuntimeError(f"the server on port {port} did not answer within {timeout:.0f} s")


async def node_database(template: SqliteTemplate, path: Path, unit: uuid.UUID, hub: Hub) -> Database:
    """A node's SQLite store, enrolled with the hub, as `nqsync node init` leaves it before its first sync."""
    template.copy(path)
    db = Database(sqlite_url(path))
    async with db.write() as conn:
        await conn.execute(insert(Identity).values(id=1, role="node", unit=unit, created_at=now()))
        await conn.execute(
            insert(Upstream).values(
                url=hub.url,
                priority=0,
                credential=hub.credentials[unit],
                parent_unit=hub.tree.root.id,
                pull_cursor=0,
                push_cursor=0,
                scope="",
                failures=0,
            )
        )
    return db


def human(n: float) -> str:
    return f"{n:,.0f}"
