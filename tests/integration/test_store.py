"""The local store on both databases: idempotent apply, one feed, scoped scans (ARCHITECTURE.md)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import msgspec
import pytest
from sqlalchemy import select

from shared.catalogue import build_registry
from shared.db.engine import Database
from shared.db.migrate import upgrade
from shared.domain.tree import Unit, UnitKind, Version
from shared.essays.records import ESSAY_GRADE, EssayGradeRecord
from shared.ids import new_id
from shared.sync import scopes, store, writes
from shared.sync.protocol import raw_array
from shared.sync.store import Scope
from shared.units.records import UNIT, load_tree, store_units

DAY = date(2020, 1, 1)


def unit(code: str, parent: Unit | None, kind: UnitKind = UnitKind.COMMITTEE) -> Unit:
    return Unit(
        id=new_id(),
        armed_forces=False,
        valid_from=DAY,
        valid_to=None,
        versions=(Version(DAY, code, f"Đơn vị {code}", parent.id if parent else None, "cấp", kind),),
    )


async def small_tree(db: Database) -> dict[str, Unit]:
    tu = unit("TU", None)
    h1, h2 = unit("H1", tu), unit("H2", tu)
    b11, b12, b21 = unit("H1B1", h1), unit("H1B2", h1), unit("H2B1", h2)
    units = {u.code: u for u in (tu, h1, h2, b11, b12, b21)}
    async with db.write() as conn:
        await store_units(conn, list(units.values()))
    return units


async def test_migrations_run_twice(db: Database) -> None:
    await upgrade(db)
    await upgrade(db)
    async with db.read() as conn:
        assert await store.head(conn) == 0


async def test_apply_is_idempotent_and_keeps_the_highest_rev(db: Database) -> None:
    units = await small_tree(db)
    async with db.read() as conn:
        head_before = await store.head(conn)
    rec = await _unit_record(db, units["H1B1"].id)
    async with db.write() as conn:
        again = await store.apply(conn, UNIT, [rec], origin=None)
    assert again.stored == []
    assert again.ignored == [rec.id]
    async with db.read() as conn:
        assert await store.head(conn) == head_before, (
            "a version already held took no seq (no gap above the push cursor)"
        )
    newer = _with(rec, rev=rec.rev + 1, name="Đổi tên")
    async with db.write() as conn:
        done = await store.apply(conn, UNIT, [newer, rec], origin=units["H1"].id)
    assert done.stored == [rec.id]
    assert (await _unit_record(db, rec.id)).name == "Đổi tên"
    async with db.read() as conn:
        assert await store.head(conn) > head_before


async def test_tree_paths_and_as_of_date(db: Database) -> None:
    units = await small_tree(db)
    async with db.read() as conn:
        tree = await load_tree(conn)
    assert tree.path(units["H1B1"].id) == f"/{units['TU'].id.hex}/{units['H1'].id.hex}/{units['H1B1'].id.hex}/"
    assert tree.depth(units["H2B1"].id) == 2


async def test_d4_scan_gives_a_district_its_ancestors_and_subtree_never_a_sibling(db: Database) -> None:
    units = await small_tree(db)
    registry = build_registry()
    async with db.read() as conn:
        tree = await load_tree(conn)
        h1 = units["H1"].id
        scope = Scope(unit=h1, path=tree.path(h1), down=True, up=True)
        rows = await store.scan(conn, registry, scope, after=0, upto=await store.head(conn), limit=100)
    got = {tree.code_of(i) for _, i, _, _ in rows}
    assert got == {"TU", "H1", "H1B1", "H1B2"}
    seqs = [s for _, _, s, _ in rows]
    assert seqs == sorted(seqs)


async def _unit_record(db: Database, unit_id: uuid.UUID):  # type: ignore[no-untyped-def]
    async with db.read() as conn:
        [(_, rec)] = await store.fetch(conn, UNIT, [unit_id])
    return rec


def _with(rec, **changes):  # type: ignore[no-untyped-def]
    return msgspec.structs.replace(rec, **changes)


async def test_d10_grades_applied_as_views_are_stored_exactly_as_records_and_only_once(db: Database) -> None:
    """D10 grades travel up by the tens of thousands as views (UUIDs as wire bytes): what they store, their
    wires, origin and idempotence must be those of the records they view, on the COPY path and the small one."""
    units = await small_tree(db)
    owner, origin = units["H1B1"].id, units["H1"].id
    doc = new_id()
    grades = [
        EssayGradeRecord(
            new_id(), owner, None, 1, False, new_id(), owner, doc, 1, Decimal("7.5"), "Khá", DAY, "obliged"
        )
        for _ in range(store.SMALL_BATCH + 36)
    ]
    wires = [store.encode_record(g) for g in grades]
    views = ESSAY_GRADE.view_decoder.decode(raw_array(wires))
    async with db.write() as conn:
        done = await store.apply(conn, ESSAY_GRADE, views, origin=origin, wires=wires)
    assert [store.as_uuid(i) for i in done.stored] == [g.id for g in grades]
    ids = [g.id for g in grades]
    async with db.read() as conn:
        assert [rec for _, rec in await store.fetch(conn, ESSAY_GRADE, ids)] == grades
        assert [w for _, w in await store.fetch_wire(conn, ESSAY_GRADE, ids)] == wires
        origins = (await conn.execute(select(ESSAY_GRADE.table.c.origin).distinct())).scalars().all()
    assert origins == [origin]

    async with db.write() as conn:
        again = await store.apply(conn, ESSAY_GRADE, views, origin=origin, wires=wires)
    assert (again.stored, len(again.ignored)) == ([], len(grades)), "a retried batch stores nothing twice"

    newer = msgspec.structs.replace(grades[0], rev=2, score=Decimal("9"), band="Tốt")
    older = msgspec.structs.replace(grades[1], rev=0, score=Decimal("1"), band="Yếu")
    pair = [store.encode_record(newer), store.encode_record(older)]
    async with db.write() as conn:
        small = await store.apply(
            conn, ESSAY_GRADE, ESSAY_GRADE.view_decoder.decode(raw_array(pair)), origin=origin, wires=pair
        )
    assert ([store.as_uuid(i) for i in small.stored], [store.as_uuid(i) for i in small.ignored]) == (
        [newer.id],
        [older.id],
    ), "the rev guard holds for views"
    async with db.read() as conn:
        held = {rec.id: rec for _, rec in await store.fetch(conn, ESSAY_GRADE, ids[:2])}
    assert held == {newer.id: newer, grades[1].id: grades[1]}


async def test_d4_a_wide_scan_planned_for_its_values_finds_the_same_rows_and_leaves_the_session_as_it_was(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    units = await small_tree(db)
    registry = build_registry()
    async with db.read() as conn:
        tree = await load_tree(conn)
        h1 = units["H1"].id
        reach = tuple(u.id for u in units.values() if u.code.startswith("H1"))
        scope = Scope(unit=h1, path=tree.path(h1), down=True, up=True, owners=reach, audiences=(*reach, units["TU"].id))
        head = await store.head(conn)
        narrow = await store.scan_wires(conn, registry, scope, after=0, upto=head, limit=100)
        monkeypatch.setattr(scopes, "CUSTOM_PLAN_WINDOW", 0)  # every window counts as wide
        wide = await store.scan_wires(conn, registry, scope, after=0, upto=head, limit=100)
        if conn.dialect.name == "postgresql":
            assert (await conn.exec_driver_sql("SHOW plan_cache_mode")).scalar() == "auto"
    assert wide == narrow
    assert len(wide) == 4  # the unit rows the district holds (the D4 test above)


async def test_a_batch_copied_as_fresh_that_meets_a_row_stored_meanwhile_keeps_the_newer_version(db: Database) -> None:
    """A push whose pre-select found nothing held may meet a row another push stored since (any path converges):
    the straight COPY is undone and the batch upserted under the rev guard, the newer stored version kept."""
    units = await small_tree(db)
    owner = units["H1B1"].id
    grades = [
        EssayGradeRecord(
            new_id(), owner, None, 1, False, new_id(), owner, new_id(), 1, Decimal("7.5"), "Khá", DAY, "obliged"
        )
        for _ in range(store.SMALL_BATCH + 36)
    ]
    newer = msgspec.structs.replace(grades[5], rev=3, score=Decimal("9"), band="Tốt")
    async with db.write() as conn:
        await store.apply(conn, ESSAY_GRADE, [newer], origin=None)
    wires = [store.encode_record(g) for g in grades]
    views = ESSAY_GRADE.view_decoder.decode(raw_array(wires))
    async with db.write() as conn:  # as `apply` does when its pre-select found none of them held
        await writes._store_winners(conn, ESSAY_GRADE, list(zip(views, wires, strict=True)), units["H1"].id, fresh=True)
    ids = [g.id for g in grades]
    async with db.read() as conn:
        held = {rec.id: rec for _, rec in await store.fetch(conn, ESSAY_GRADE, ids)}
        seqs = [s for s, _ in await store.fetch(conn, ESSAY_GRADE, ids)]
    assert held == {g.id: (newer if g.id == newer.id else g) for g in grades}
    assert len(set(seqs)) == len(grades), "every row has its own seq"


async def test_a_push_expected_fresh_that_meets_held_rows_tells_stored_from_ignored_as_without_the_hint(
    db: Database,
) -> None:
    """`likely_fresh` skips the pre-select of held versions: a batch that meets held rows all the same (a node
    restored from an old backup pushes again) is looked up after the COPY is undone, with the same outcome."""
    units = await small_tree(db)
    owner, origin = units["H1B1"].id, units["H1"].id
    grades = [
        EssayGradeRecord(
            new_id(), owner, None, 1, False, new_id(), owner, new_id(), 1, Decimal("7.5"), "Khá", DAY, "obliged"
        )
        for _ in range(store.SMALL_BATCH + 36)
    ]
    wires = [store.encode_record(g) for g in grades]
    views = ESSAY_GRADE.view_decoder.decode(raw_array(wires))
    newer = msgspec.structs.replace(grades[5], rev=3, score=Decimal("9"), band="Tốt")
    async with db.write() as conn:
        await store.apply(conn, ESSAY_GRADE, [newer, *grades[:3]], origin=None)
        before = await store.head(conn)
    async with db.write() as conn:
        done = await store.apply(conn, ESSAY_GRADE, views, origin=origin, wires=wires, likely_fresh=True)
        after = await store.head(conn)
        postgres = conn.dialect.name == "postgresql"
    held_ids = {grades[i].id for i in (0, 1, 2, 5)}
    assert sorted(map(store.as_uuid, done.ignored)) == sorted(held_ids)
    assert sorted(map(store.as_uuid, done.stored)) == sorted(g.id for g in grades if g.id not in held_ids)
    ids = [g.id for g in grades]
    async with db.read() as conn:
        held = {rec.id: rec for _, rec in await store.fetch(conn, ESSAY_GRADE, ids)}
    assert held == {g.id: (newer if g.id == newer.id else g) for g in grades}
    if postgres:  # SQLite ignores the hint (its guarded upsert may leave seqs unused, as it always did)
        assert after - before == len(grades) - len(held_ids), "the undone COPY's seqs were given back"
