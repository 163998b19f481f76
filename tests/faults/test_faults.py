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
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import func, select

from shared.db.engine import Database
from shared.sync.registry import RecordType
from shared.sync.tables import Rejection, Upstream
from tests.faults.province import (
    BASES,
    BIG_PULL,
    BIG_PUSH,
    DIRECT,
    DISTRICTS,
    FAKETIME,
    FAULT_PASSES,
    FAULT_RATE,
    MAX_DRAIN_PASSES,
    SEED,
    SKEW,
    Outcome,
    Province,
    parent_of,
    pg_dsn,
    sqlite_writer_busy,
    wait_for,
)
from tests.faults.proxy import KINDS, Fault, RequestInfo, random_plan
from tests.faults.reference import differences, holding
from tests.harness import DOCUMENT, ESSAY_GRADE, MEMBER


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
