"""The out-of-order commit trap on PostgreSQL (ARCHITECTURE.md): a puller never moves its cursor past a row it has
not seen, however the writers' transactions interleave.

Writers take seqs and then commit in random order: some write through `store.apply` in their own transactions and
sleep a little *inside* the transaction, after their seqs are taken and before the commit (the window in which a
later seq could otherwise become visible first); others push batches from two district children through
`Parent.push`. Meanwhile two base children loop `Parent.pull` with their cursors and small random batch limits.
After every pull, every row the database now holds at or below the puller's cursor (in its scope) must already have
been handed to it at its current version: a row that commits late below a cursor is a row skipped forever.

Every row is written once, so each must be handed out exactly once. Checked locally against a variant of
`store.take_seqs` that commits the seq allocation in its own transaction (the trap, reopened): the test then fails on
every run, with dozens of rows committed below a cursor and rows missing at the end.

A second test forces a rewrite of a row between the two reads of one pull (the committed head, then the rows): a pull
reads each row's seq and content in one statement, so the rewritten row is simply left for the next pull. (Found while
a pull still read ids and contents in two statements: the cursor then jumped over rows on PostgreSQL.)
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import msgspec
import pytest
from sqlalchemy import insert, select

from shared.catalogue import build_registry
from shared.db.engine import Database
from shared.documents.records import DOCUMENT, DocumentRecord
from shared.settings import SyncSettings
from shared.sync import store
from shared.sync.parent import Child, Parent
from shared.sync.protocol import PROTOCOL, Batch, EnrolRequest, PullRequest, PushRequest, encoder, raw_array
from shared.sync.tables import Identity
from shared.units.records import store_units
from tests.harness import DAY, tree_units

WRITERS = 6
"""Writers through `store.apply` that sleep inside their transactions."""
WRITES = 30
"""Transactions per writer and pushes per district child."""
PUSHERS = ("H1", "H2")
PULLERS = ("H1B1", "H2B1")


@dataclass
class Puller:
    child: Child
    visible: set[uuid.UUID]
    """Audiences whose documents reach this child: its ancestors and itself."""
    cursor: int = 0
    scope: str = ""
    pulls: int = 0
    seen: Counter[tuple[uuid.UUID, int]] = field(default_factory=Counter)
    latest: dict[uuid.UUID, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def document(owner: uuid.UUID, n: int) -> DocumentRecord:
    return DocumentRecord(
        id=uuid.uuid4(),
        owner=owner,
        audience=owner,
        rev=1,
        deleted=False,
        number="15-NQ/TU",
        title=f"Văn bản {n}",
        signed_on=DAY,
        issuer="Tỉnh ủy",
        lead_agency="Ban Tuyên giáo",
        applies_to=[],
    )


async def pull_once(parent: Parent, db: Database, puller: Puller, rng: random.Random) -> bool:
    """One pull; notes what it got and checks the cursor skipped nothing. Returns whether more is waiting."""
    decode = msgspec.msgpack.Decoder(list[DocumentRecord]).decode
    reply = await parent.pull(
        puller.child,
        PullRequest(protocol=PROTOCOL, cursor=puller.cursor, scope=puller.scope, limit=rng.randint(1, 25)),
    )
    assert not reply.rescope, "the scope did not change: the cursor must stay valid"
    puller.pulls += 1
    for batch in reply.batches:
        if batch.type != DOCUMENT.name:
            continue
        for rec in decode(batch.rows):
            if puller.latest.get(rec.id, 0) >= rec.rev:
                puller.problems.append(f"{rec.id} rev {rec.rev} handed out again after rev {puller.latest[rec.id]}")
            puller.seen[rec.id, rec.rev] += 1
            puller.latest[rec.id] = rec.rev
    assert reply.cursor >= puller.cursor, "a cursor never goes back"
    puller.cursor, puller.scope = reply.cursor, reply.scope
    # Whatever is committed at or below the cursor now must have been handed out already: a writer that took a
    # lower seq and committed after the puller's read would show up here as a row the puller can never get.
    table = DOCUMENT.table
    async with db.read() as conn:
        rows = await conn.execute(
            select(table.c.id, table.c.rev, table.c.seq).where(
                table.c.seq <= puller.cursor, table.c.audience.in_(puller.visible)
            )
        )
        for row in rows:
            if puller.latest.get(row.id, 0) < row.rev:
                puller.problems.append(
                    f"{row.id} rev {row.rev} at seq {row.seq} committed below cursor {puller.cursor} but never pulled"
                )
    return reply.more


async def scenario(db: Database, seed: int = 7) -> tuple[list[Puller], dict[uuid.UUID, tuple[int, uuid.UUID]], int]:
    """Run the writers and pullers; returns the pullers, the final (rev, audience) of every document, and writes."""
    rng = random.Random(seed)
    units = tree_units()
    async with db.write() as conn:
        await store_units(conn, list(units.values()))
        await conn.execute(insert(Identity).values(id=1, role="hub", unit=None, created_at=datetime.now(UTC)))
    parent = Parent(db, build_registry(), SyncSettings())
    uid = {code: unit.id for code, unit in units.items()}

    async def enrolled(code: str) -> Child:
        reply = await parent.enrol(EnrolRequest(protocol=PROTOCOL, code=await parent.issue_code(uid[code]), label=code))
        return await parent.authenticate(f"Bearer {reply.credential}")

    pullers = [Puller(await enrolled(code), {uid["TU"], uid[code[:2]], uid[code]}) for code in PULLERS]
    written: list[DocumentRecord] = []
    writes = 0

    async def apply_writer() -> None:
        nonlocal writes
        mine: dict[uuid.UUID, DocumentRecord] = {}  # each writer edits only what it wrote: one writer per record
        for n in range(WRITES):
            recs = [document(uid["TU"], n) for _ in range(rng.randint(1, 3))]
            if mine and rng.random() < 0.4:  # rewrite a recent row too, so pulls race edits inside their window
                old = mine[rng.choice(list(mine)[-5:])]
                recs.append(msgspec.structs.replace(old, rev=old.rev + 1, title=f"{old.title} (sửa)"))
            async with db.write() as conn:
                await store.apply(conn, DOCUMENT, recs, origin=None)
                await asyncio.sleep(rng.uniform(0, 0.006))  # seqs taken, not committed yet
            mine.update({r.id: r for r in recs})
            written.extend(recs)
            writes += 1

    async def pusher(code: str) -> None:
        nonlocal writes
        child = await enrolled(code)
        for n in range(WRITES):
            recs = [document(uid[code], n) for _ in range(rng.randint(1, 4))]
            batch = Batch(DOCUMENT.name, raw_array([encoder.encode(r) for r in recs]))
            reply = await parent.push(child, PushRequest(protocol=PROTOCOL, after=n, upto=n + 1, batches=[batch]))
            assert reply.stored == len(recs)
            written.extend(recs)
            writes += 1
            await asyncio.sleep(rng.uniform(0, 0.002))

    done = asyncio.Event()

    async def pull_loop(puller: Puller) -> None:
        while not done.is_set():
            await pull_once(parent, db, puller, rng)
            await asyncio.sleep(rng.uniform(0, 0.002))
        while await pull_once(parent, db, puller, rng):  # drain what is left
            pass

    loops = [asyncio.create_task(pull_loop(p)) for p in pullers]
    await asyncio.gather(*(apply_writer() for _ in range(WRITERS)), *(pusher(code) for code in PUSHERS))
    done.set()
    await asyncio.gather(*loops)
    table = DOCUMENT.table
    async with db.read() as conn:
        final = {
            r.id: (r.rev, r.audience) for r in await conn.execute(select(table.c.id, table.c.rev, table.c.audience))
        }
    return pullers, final, writes


async def test_concurrent_pushes_and_writes_never_make_a_puller_skip_a_row(make_database_url) -> None:  # type: ignore[no-untyped-def]
    db = Database(await make_database_url("postgresql"))
    try:
        pullers, final, writes = await scenario(db)
    finally:
        await db.dispose()
    assert writes == WRITERS * WRITES + len(PUSHERS) * WRITES
    for puller in pullers:
        assert not puller.problems, "\n".join(puller.problems[:20])
        should = {rid: rev for rid, (rev, audience) in final.items() if audience in puller.visible}
        assert puller.latest == should, "the puller ends holding exactly the latest version of every row in scope"
        twice = [key for key, n in puller.seen.items() if n > 1]
        assert not twice, f"versions handed out more than once: {twice[:5]}"
        assert any(rev > 1 for _, rev in puller.seen), "edits raced the pulls too"
        assert puller.pulls > 50, "enough pulls raced the writers to mean something"


async def test_a_row_rewritten_while_a_pull_reads_does_not_make_the_cursor_skip_rows(
    make_database_url,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = Database(await make_database_url("postgresql"))
    try:
        units = tree_units()
        async with db.write() as conn:
            await store_units(conn, list(units.values()))
            await conn.execute(insert(Identity).values(id=1, role="hub", unit=None, created_at=datetime.now(UTC)))
        parent = Parent(db, build_registry(), SyncSettings())
        docs = {d.id: d for d in (document(units["TU"].id, n) for n in range(10))}
        for doc in docs.values():  # one transaction each: ten seqs in a row
            async with db.write() as conn:
                await store.apply(conn, DOCUMENT, [doc], origin=None)
        reply = await parent.enrol(EnrolRequest(protocol=PROTOCOL, code=await parent.issue_code(units["H1"].id)))
        puller = Puller(await parent.authenticate(f"Bearer {reply.credential}"), {units["TU"].id})

        # The owner rewrites a row not yet pulled at the one moment that matters: after the pull read the committed
        # head and before it reads the rows. The engine's own `scan` still does the reading; only the timing of a
        # concurrent writer's commit is forced.
        real_scan = store.scan_wires
        rewritten: list[uuid.UUID] = []

        async def scan_after_a_rewrite(conn, registry, scope, *, after, upto, limit):  # type: ignore[no-untyped-def]
            if not rewritten and puller.pulls == 2:
                target = next(d for d in docs if d not in puller.latest)
                rewritten.append(target)
                async with db.write() as other:
                    newer = msgspec.structs.replace(docs[target], rev=2, title="Bản sửa")
                    await store.apply(other, DOCUMENT, [newer], origin=None)
            return await real_scan(conn, registry, scope, after=after, upto=upto, limit=limit)

        monkeypatch.setattr(store, "scan_wires", scan_after_a_rewrite)
        rng = random.Random(1)
        await pull_once(parent, db, puller, rng)  # the unit tree and perhaps a few documents
        puller.pulls = 2
        while True:
            reply_more = await parent.pull(
                puller.child, PullRequest(protocol=PROTOCOL, cursor=puller.cursor, scope=puller.scope, limit=3)
            )
            for batch in reply_more.batches:
                if batch.type == DOCUMENT.name:
                    for rec in msgspec.msgpack.Decoder(list[DocumentRecord]).decode(batch.rows):
                        puller.latest[rec.id] = rec.rev
            puller.cursor, puller.scope = reply_more.cursor, reply_more.scope
            puller.pulls += 1
            if not reply_more.more:
                break
    finally:
        await db.dispose()
    assert rewritten, "the rewrite happened inside a pull"
    missing = sorted(set(docs) - set(puller.latest), key=str)
    assert not missing, f"{len(missing)} of {len(docs)} documents were never pulled: the cursor jumped over them"
    assert puller.latest[rewritten[0]] == 2, "the rewritten row arrives at its new version"
