"""The fault scenario's province: a hub, two districts and three bases as `nqsync` processes behind fault proxies."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import signal
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import msgspec
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from shared.catalogue import build_registry
from shared.db.engine import Database
from shared.settings import SyncSettings, sqlite_url
from shared.sync import store
from shared.sync.client import enrol
from shared.sync.parent import Parent
from shared.sync.registry import Record, RecordType
from shared.sync.tables import Identity, Upstream
from shared.units.records import store_units
from tests.faults.proxy import FaultProxy
from tests.faults.reference import Reference
from tests.harness import DOCUMENT, ESSAY_GRADE, MEMBER, Cluster, free_port

NQSYNC = str(Path(sys.executable).with_name("nqsync"))
FAKETIME = (
    next(iter(sorted(Path("/usr/lib").glob("*/faketime/libfaketime.so.1"))), None) if shutil.which("faketime") else None
)
"""libfaketime, preloaded by hand: the `faketime` wrapper keeps a named semaphore per PID that a SIGKILLed node
leaves behind, and a later process given the same PID then fails with "sem_open: File exists"."""
SEED = int(os.environ.get("NQSYNC_FAULTS_SEED", "20261127"))
FAULT_RATE = 0.4
"""Share of requests that meet a fault on their link during the fault passes."""
FAULT_PASSES = int(os.environ.get("NQSYNC_FAULTS_PASSES", "1"))
"""Passes of rounds under link faults; NQSYNC_FAULTS_PASSES=10 (and NQSYNC_FAULTS_SEED=n) for a longer run."""
BIG_PULL = 3000
"""Documents the hub issues at once: a pull long enough to kill a node in the middle of applying it."""
BIG_PUSH = 2000
"""Grades one base writes at once: a push long enough to kill the hub in the middle of applying it."""
MAX_DRAIN_PASSES = 6

DISTRICTS = ("H1", "H2")
BASES = ("H1B1", "H1B2", "H2B1")
DIRECT = "H2B1"
"""The base that is also enrolled straight with the hub."""
SKEW = {"H1": 3, "H2": -3, "H1B1": -3, "H1B2": 3, "H2B1": 3}
"""Days each node's clock is off."""


def parent_of(code: str) -> str:
    return "TU" if code in DISTRICTS else code[:2]


@dataclass
class Outcome:
    code: str
    rc: int
    out: str
    pushed: int = 0
    pulled: int = 0

    @property
    def moved(self) -> int:
        return self.pushed + self.pulled


def parse_summary(code: str, rc: int, out: str) -> Outcome:
    """Rows moved, from the round's plain summary ("gửi lên N (cấp trên ghi M), nhận về K (ghi L)")."""
    result = Outcome(code, rc, out)
    if rc == 0:
        line = next(ln for ln in out.splitlines() if "Đồng bộ xong" in ln)
        result.pushed = int(line.split("gửi lên ")[1].split(" ")[0])
        result.pulled = int(line.split("nhận về ")[1].split(" ")[0])
    return result


@dataclass
class Stats:
    rounds: int = 0
    failed_rounds: int = 0
    kills: list[str] = field(default_factory=list)
    hub_restarts: int = 0
    skewed_processes: int = 0


class Province:
    """The processes, proxies and databases of one test, and what was written where."""

    def __init__(self, tmp: Path, make_url: Callable[[str], Awaitable[str]]) -> None:
        self.tmp = tmp
        self.make_url = make_url
        self.layout = Cluster(tmp / "layout", make_url)  # the unit tree and the record factories
        self.uid = {code: unit.id for code, unit in self.layout.units.items()}
        self.registry = build_registry()
        self.stats = Stats()
        self.hub_port = free_port()
        self.ports = {code: free_port() for code in DISTRICTS}
        self.links: dict[tuple[str, str], FaultProxy] = {}
        self.servers: dict[str, asyncio.subprocess.Process] = {}
        self.dbs: dict[str, Database] = {}
        self.hub_url = ""
        self.ref: Reference | None = None
        self.limit = asyncio.Semaphore(3)  # two cores: more processes at once only slows each down
        self.rng = random.Random(SEED)

    # Processes

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NQSYNC_")}
        env.update(COLUMNS="200", NO_COLOR="1", TERM="dumb")  # the summary stays on one line
        return env

    def command(self, code: str, *args: str) -> list[str]:
        cmd = [NQSYNC, *args]
        if FAKETIME and code in SKEW:
            self.stats.skewed_processes += 1
            cmd = ["env", f"LD_PRELOAD={FAKETIME}", f"FAKETIME={SKEW[code]:+d}d", *cmd]
        return cmd

    def data(self, code: str) -> Path:
        return self.tmp / code

    async def spawn(self, code: str, *args: str) -> asyncio.subprocess.Process:
        log = (self.tmp / f"{code}.log").open("ab")
        try:
            return await asyncio.create_subprocess_exec(
                *self.command(code, *args), stdout=log, stderr=log, env=self.env(), start_new_session=True
            )
        finally:
            log.close()

    async def run(self, code: str, *args: str) -> Outcome:
        async with self.limit:
            proc = await asyncio.create_subprocess_exec(
                *self.command(code, *args),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env=self.env(),
            )
            out, _ = await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode is not None
        return parse_summary(code, proc.returncode, out.decode())

    async def sync(self, code: str, via: str | None = None) -> Outcome:
        args = ["node", "sync", "--data", str(self.data(code))]
        if via:
            args += ["--via", self.links[code, via].url]
        result = await self.run(code, *args)
        self.stats.rounds += 1
        self.stats.failed_rounds += result.rc != 0
        return result

    async def wait_healthy(self, port: int, proc: asyncio.subprocess.Process) -> None:
        async with httpx.AsyncClient() as http:
            for _ in range(600):
                assert proc.returncode is None, f"a server on port {port} exited with {proc.returncode}"
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                        return
                await asyncio.sleep(0.05)
        raise AssertionError(f"no server answered on port {port}")

    async def start_hub(self) -> None:
        proc = await self.spawn(
            "TU", "server", "serve", "--data", str(self.data("TU")), "--database-url", self.hub_url,
            "--port", str(self.hub_port),
        )  # fmt: skip
        self.servers["TU"] = proc
        await self.wait_healthy(self.hub_port, proc)

    async def start_district(self, code: str) -> None:
        # The loop's own rounds are kept out of the way (one at start): the test drives rounds itself.
        proc = await self.spawn(
            code, "node", "serve", "--data", str(self.data(code)), "--port", str(self.ports[code]),
            "--interval", "100000",
        )  # fmt: skip
        self.servers[code] = proc
        await self.wait_healthy(self.ports[code], proc)

    async def kill(self, code: str) -> None:
        proc = self.servers.pop(code)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()

    async def stop_all(self) -> None:
        for code, proc in list(self.servers.items()):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
            self.servers.pop(code)
        for proxy in self.links.values():
            await proxy.close()
        for db in self.dbs.values():
            await db.dispose()

    # Setup

    def node_db(self, code: str) -> Database:
        if code not in self.dbs:
            self.dbs[code] = Database(sqlite_url(self.data(code) / "nqsync.sqlite3"))
        return self.dbs[code]

    def clock(self, code: str) -> Callable[[], datetime]:
        """The node's own clock, as its process sees it: a code it issues expires by that clock."""
        skew = timedelta(days=SKEW.get(code, 0) if FAKETIME else 0)
        return lambda: datetime.now(UTC) + skew

    async def issue_code(self, parent: str, child: str) -> str:
        db = self.dbs["TU"] if parent == "TU" else self.node_db(parent)
        return await Parent(db, self.registry, SyncSettings(), clock=self.clock(parent)).issue_code(self.uid[child])

    async def enrol(self, code: str, parent: str, *, priority: int = 0) -> None:
        result = await self.run(
            code, "node", "init", "--data", str(self.data(code)), "--parent", self.links[code, parent].url,
            "--code", await self.issue_code(parent, code), "--label", code, "--priority", str(priority),
        )  # fmt: skip
        assert result.rc == 0, result.out

    async def setup(self) -> None:
        self.hub_url = await self.make_url("postgresql")
        hub = self.dbs["TU"] = Database(self.hub_url)
        async with hub.write() as conn:
            await store_units(conn, list(self.layout.units.values()))
            await conn.execute(insert(Identity).values(id=1, role="hub", unit=None, created_at=datetime.now(UTC)))
        self.ref = await Reference.from_hub(hub, self.registry)
        for child, parent in [*((d, "TU") for d in DISTRICTS), *((b, parent_of(b)) for b in BASES), (DIRECT, "TU")]:
            port = self.hub_port if parent == "TU" else self.ports[parent]
            self.links[child, parent] = await FaultProxy(port, name=f"{child}->{parent}").start()
        await self.start_hub()
        await asyncio.gather(*(self.enrol(code, "TU") for code in DISTRICTS))
        await asyncio.gather(*(self.start_district(code) for code in DISTRICTS))
        await asyncio.gather(*(self.enrol(code, parent_of(code)) for code in BASES))
        # A fallback upstream: the base may also sync straight with the hub (enrolled as `node init --priority 10`
        # would, without paying for another process start).
        link = self.links[DIRECT, "TU"]
        reply = await enrol(link.url, await self.issue_code("TU", DIRECT), DIRECT)
        async with self.node_db(DIRECT).write() as conn:
            await conn.execute(
                insert(Upstream).values(
                    url=link.url, priority=10, credential=reply.credential, parent_unit=reply.parent_unit,
                    pull_cursor=0, push_cursor=0, scope="", failures=0,
                )
            )  # fmt: skip

    # Writing as the owner's node

    async def write(self, code: str, rt: RecordType, records: list[Record]) -> None:
        db = self.dbs["TU"] if code == "TU" else self.node_db(code)
        async with db.write() as conn:
            await store.apply(conn, rt, records, origin=None)
        assert self.ref is not None
        self.ref.put_all(rt, records)

    def owned(self, code: str, rt: RecordType) -> list[Record]:
        assert self.ref is not None
        return [
            rec
            for kind, rec in self.ref.records.values()
            if kind is rt and rec.owner == self.uid[code] and not rec.deleted
        ]

    async def edit_some(self, code: str) -> None:
        """The owner edits a few of its records and deletes one (a tombstone at rev + 1)."""
        for rt in (DOCUMENT, MEMBER, ESSAY_GRADE):
            mine = self.owned(code, rt)
            if len(mine) < 2:
                continue
            picked = self.rng.sample(mine, 2)
            rev = picked[0].rev + 1
            change = {"document": {"title": f"Sửa lần {rev}"}, "member": {"full_name": f"Sửa lần {rev}"}}
            edited = msgspec.structs.replace(picked[0], rev=rev, **change.get(rt.name, {"attempt": rev}))
            deleted = msgspec.structs.replace(picked[1], rev=picked[1].rev + 1, deleted=True)
            await self.write(code, rt, [edited, deleted])


async def sqlite_writer_busy(path: Path) -> bool:
    """Whether some process holds the database's write lock (a write transaction is open)."""
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return True
    else:
        conn.execute("ROLLBACK")
        return False
    finally:
        conn.close()


def pg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def wait_for(condition: Callable[[], Awaitable[bool]], within: float, every: float = 0.002) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await condition():
            return True
        await asyncio.sleep(every)
    return False
