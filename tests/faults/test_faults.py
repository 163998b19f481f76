"""Faults with real processes: a hub, two districts and three bases, each an `nqsync` process, every link through a
fault-injecting proxy; after healing and draining every node holds exactly what the flow rules say.

The cluster: `nqsync server serve` on PostgreSQL; districts H1 and H2 run `nqsync node serve` (they are parents)
and sync by `nqsync node sync` rounds; bases H1B1, H1B2 and H2B1 (the last also enrolled straight with the hub)
run only `nqsync node init` and `nqsync node sync`, on SQLite in their own folders. Records are written into each
node's database by the test as the owner's node would (bases only between their rounds, never while a process of
theirs runs), and noted in the reference (`reference.py`).

Faults injected:
- on every link, cuts mid-request and mid-response, delays and duplicated requests (seeded random plans);
- a district's and a base's `node sync` process killed with SIGKILL while applying a pull of thousands of documents
  (the moment is found by watching for the node's SQLite write lock), then run again;
- the hub killed with SIGKILL while it applies a district's push of thousands of grades (found by watching for the
  feed counter's row lock in PostgreSQL), then started again;
- every node process runs under libfaketime with its clock 3 days ahead or behind (`apt-get install faketime`);
  without it the clocks are real and `test_node_clocks_are_skewed_in_the_fault_scenario` is skipped to say so.

Draining: `nqsync node sync` on every node, bases then districts, until a whole pass moves nothing.
"""

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
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import msgspec
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url

from shared.catalogue import build_registry
from shared.db.engine import Database
from shared.settings import SyncSettings, sqlite_url
from shared.sync import store
from shared.sync.client import enrol
from shared.sync.parent import Parent
from shared.sync.registry import Record, RecordType
from shared.sync.tables import Identity, Rejection, Upstream
from shared.units.records import store_units
from tests.faults.proxy import KINDS, Fault, FaultProxy, RequestInfo, random_plan
from tests.faults.reference import Reference, differences, holding
from tests.harness import DOCUMENT, ESSAY_GRADE, MEMBER, Cluster, free_port

NQSYNC = str(Path(sys.executable).with_name("nqsync"))
FAKETIME = shutil.which("faketime")
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
            cmd = [FAKETIME, "-f", f"{SKEW[code]:+d}d", *cmd]
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


def is_big(path: str, least: int) -> Callable[[RequestInfo, int], bool]:
    return lambda info, size: info.path == path and size >= least


async def kill_mid_pull(province: Province, code: str) -> int:
    """Run a round of `code` and SIGKILL it while it applies a big pull; returns how many documents survived."""
    link = province.links[code, parent_of(code)]
    delivered = link.watch("response_sent", is_big("/sync/v1/pull", 10_000))
    proc = await province.spawn(code, "node", "sync", "--data", str(province.data(code)))
    await asyncio.wait_for(delivered, 60)
    db_path = province.data(code) / "nqsync.sqlite3"
    # The whole pull has reached the node: it is now decoding and applying it in one write transaction.
    locked = await wait_for(lambda: sqlite_writer_busy(db_path), within=10, every=0.001)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    await proc.wait()
    assert locked, f"{code} never opened its write transaction for the pull"
    province.stats.kills.append(code)
    return await count(province.node_db(code), DOCUMENT)


async def count(db: Database, rt: RecordType) -> int:
    async with db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(rt.table))).scalar_one())


async def kill_hub_mid_push(province: Province) -> tuple[int, bool]:
    """Run H2's round and SIGKILL the hub while it applies H2's big push; returns grades the hub kept, and whether
    the kill came while the push's transaction was open."""
    link = province.links["H2", "TU"]
    sent = link.watch("request_sent", is_big("/sync/v1/push", 8_000))
    round_ = asyncio.ensure_future(province.sync("H2"))
    await asyncio.wait_for(sent, 60)
    probe = await asyncpg.connect(pg_dsn(province.hub_url))
    try:

        async def applying() -> bool:
            # The push's transaction holds the feed counter's row from its first seq until commit.
            held = await probe.fetchval(
                "SELECT count(*) FROM pg_locks WHERE relation = 'feed_counter'::regclass AND mode = 'RowExclusiveLock'"
            )
            return bool(held)

        in_flight = await wait_for(applying, within=10, every=0.001)
        await province.kill("TU")
    finally:
        await probe.close()
    province.stats.hub_restarts += 1
    outcome = await round_
    assert outcome.rc != 0, "the round cannot have succeeded with the hub killed under it"
    kept = await count(province.dbs["TU"], ESSAY_GRADE)
    await province.start_hub()
    return kept, in_flight


async def run_pass(province: Province, *, hub_path: bool = False) -> list[Outcome]:
    """One round of every node: bases (at once), then districts (at once)."""
    bases = await asyncio.gather(
        *(province.sync(code, via="TU" if hub_path and code == DIRECT else None) for code in BASES)
    )
    districts = await asyncio.gather(*(province.sync(code) for code in DISTRICTS))
    return [*bases, *districts]


@pytest.fixture
async def province(tmp_path: Path, make_database_url) -> AsyncIterator[Province]:  # type: ignore[no-untyped-def]
    p = Province(tmp_path, make_database_url)
    try:
        yield p
    finally:
        await p.stop_all()


async def test_after_cuts_kills_restarts_and_skewed_clocks_every_node_holds_exactly_what_it_should(
    province: Province,
) -> None:
    started = mark = time.monotonic()
    timings: dict[str, float] = {}
    await province.setup()
    timings["setup"] = time.monotonic() - mark
    mark = time.monotonic()
    p, ref = province, province.ref
    assert ref is not None

    # What each unit writes: the hub a big issue of documents, districts and bases their rosters and grades, one
    # base a big batch of grades, a district a document addressed to its own subtree.
    layout = p.layout
    hub_docs = [layout.document("TU", rev=1) for _ in range(BIG_PULL)]
    await p.write("TU", DOCUMENT, hub_docs)
    await p.write("H1", DOCUMENT, [layout.document("H1") for _ in range(3)])
    for code in (*DISTRICTS, *BASES):
        members = [layout.member(code, f"Đảng viên {code} {i}") for i in range(4)]
        await p.write(code, MEMBER, members)
        many = BIG_PUSH if code == DIRECT else 12
        grades = [layout.grade(code, members[i % 4].id, hub_docs[i % 50].id) for i in range(many)]
        await p.write(code, ESSAY_GRADE, grades)

    # A district, then a base, killed while applying the big pull; the database must roll the pull back whole.
    for code in ("H1", "H1B1"):
        survived = await kill_mid_pull(p, code)
        before = 3 if code == "H1" else 0  # its own district documents were already there, or none
        assert survived in (before, before + BIG_PULL), f"{code} kept part of a pull: {survived} documents"
        assert survived == before, f"{code} was killed after the pull committed, not during it"
        if code == "H1":  # the base's big pull needs the documents at its district; the base resumes later
            again = await p.sync(code)
            assert again.rc == 0, again.out
    timings["kills mid-pull"] = time.monotonic() - mark
    mark = time.monotonic()

    # The hub killed while applying a district's big push, then started again: nothing of it half-applied.
    first = await p.sync(DIRECT, via="H2")
    assert first.rc == 0, first.out
    before = await count(p.dbs["TU"], ESSAY_GRADE)
    kept, in_flight = await kill_hub_mid_push(p)
    assert in_flight, "the hub was killed before its push transaction opened"
    assert kept == before, f"the hub kept {kept - before} grades of a push it was killed in the middle of"

    timings["hub kill mid-push"] = time.monotonic() - mark
    mark = time.monotonic()

    # Fault passes: every link cuts, delays and duplicates; owners keep editing and deleting between rounds.
    for index, proxy in enumerate(p.links.values()):
        proxy.plan = random_plan(SEED + index, FAULT_RATE)
        # Each link's first request meets a fault of a fixed kind, so that every kind is injected on some link.
        proxy.fault_next(Fault(KINDS[index % len(KINDS)], fraction=0.5, seconds=0.3, late=index % 2 == 0))
    for n in range(FAULT_PASSES):
        for code in ("TU", *DISTRICTS, *BASES):
            await p.edit_some(code)
        await p.write("TU", DOCUMENT, [layout.document("TU") for _ in range(5)])
        await run_pass(p, hub_path=n % 2 == 0)

    timings["fault passes"] = time.monotonic() - mark
    mark = time.monotonic()

    # Heal and drain.
    for proxy in p.links.values():
        proxy.heal()
        await proxy.settle()
    passes = 0
    while passes < MAX_DRAIN_PASSES:
        passes += 1
        outcomes = await run_pass(p)
        failed = [o for o in outcomes if o.rc != 0]
        assert not failed, "a round failed after every link healed:\n" + "\n".join(o.out for o in failed)
        if not any(o.moved for o in outcomes):
            break
    else:
        raise AssertionError(f"rows still moving after {MAX_DRAIN_PASSES} passes: a queue is stalled")

    timings["drain"] = time.monotonic() - mark

    # Every node holds exactly its reference: nothing lost, nothing sideways, every record at its owner's last rev.
    names = {rid: f"{rt.name}@{rec.rev}" for rid, (rt, rec) in ref.records.items()}
    problems: list[str] = []
    for code in ("TU", *DISTRICTS, *BASES):
        db = p.dbs["TU"] if code == "TU" else p.node_db(code)
        held = await holding(db, p.registry)
        problems += [f"{code}: {line}" for line in differences(ref.expected(p.uid[code]), held, names)]
        async with db.read() as conn:
            refused = (await conn.execute(select(func.count()).select_from(Rejection))).scalar_one()
        if refused:
            problems.append(f"{code}: {refused} records refused by its parent")
    assert not problems, "\n".join(problems[:40])

    if FAKETIME:
        # The node processes really ran with their clocks off: their own last-pull stamps say so.
        for code in (*DISTRICTS, *BASES):
            async with p.node_db(code).read() as conn:
                stamps = (await conn.execute(select(Upstream.last_pull).where(Upstream.last_pull.is_not(None)))).all()
            off = max(abs((_aware(s.last_pull) - datetime.now(UTC)) - timedelta(days=SKEW[code])) for s in stamps)
            assert off < timedelta(hours=1), f"{code} did not run with its clock {SKEW[code]:+d} days off"

    link_faults = sum(proxy.total for proxy in p.links.values())
    kinds = sum((proxy.injected for proxy in p.links.values()), start=Counter[str]())
    assert len(kinds) == len(KINDS), f"every kind of link fault was injected: {dict(kinds)}"
    print(
        f"\nfaults injected: {link_faults} on links {dict(kinds)}, {len(p.stats.kills)} SIGKILLs mid-apply "
        f"({', '.join(p.stats.kills)}), {p.stats.hub_restarts} hub kill+restart mid-push, "
        f"{p.stats.skewed_processes} node processes with clocks ±3 days off; {p.stats.rounds} rounds "
        f"({p.stats.failed_rounds} failed), drained in {passes} passes; "
        + ", ".join(f"{phase} {seconds:.0f} s" for phase, seconds in timings.items())
        + f"; {time.monotonic() - started:.0f} s in all"
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_node_clocks_are_skewed_in_the_fault_scenario() -> None:
    """The fault scenario skews node clocks only where libfaketime is installed."""
    if FAKETIME is None:
        pytest.skip("faketime is not installed (apt-get install faketime): the fault scenario ran with real clocks")
