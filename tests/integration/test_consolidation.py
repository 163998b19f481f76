"""Consolidation (D20, D26): every level's figures as of the cut-off, and the province equal to its districts' sum."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import insert, select, text

from shared.api.scope import UnitInfo, unit_info
from shared.db.engine import Database
from shared.domain.consolidation import Consolidation, total
from shared.domain.deadlines import Timeliness
from shared.domain.grades import band_of
from shared.domain.tree import Tree, Unit, merge
from shared.ids import new_id
from shared.records.documents import DOCUMENT, DocumentRecord
from shared.records.essays import ESSAY_GRADE, EssayGradeRecord
from shared.records.members import MEMBER, MemberRecord
from shared.records.reviews import REVIEW_REPORT, ReviewReportRecord
from shared.records.rosters import ROSTER_COUNT
from shared.records.study import PROPAGANDA, STUDY_SESSION, PropagandaRecord, StudySessionRecord
from shared.records.units import load_units, store_units
from shared.reports.consolidate import consolidate, refresh_roster_counts
from shared.sample_activity import sample_round
from shared.sample_province import sample_units, small_sample_units
from shared.sync import store
from shared.sync.tables import Identity

SIGNED = date(2021, 12, 20)
DUE = date(2024, 12, 20)  # D16: a provincial document's preliminary review after 3 full years
TODAY = date(2025, 1, 10)


def document(root: uuid.UUID) -> DocumentRecord:
    return DocumentRecord(
        id=new_id(),
        owner=root,
        audience=root,
        rev=1,
        deleted=False,
        number="15-NQ/TU",
        title="Nghị quyết mẫu",
        signed_on=SIGNED,
        issuer="Tỉnh ủy",
        lead_agency="Ban Tuyên giáo và Dân vận Tỉnh ủy",
        applies_to=[],
        level="PROVINCE",
    )


async def seed_tree(db: Database, units: list[Unit]) -> None:
    async with db.write() as conn:
        await store_units(conn, units)
        await conn.execute(insert(Identity).values(id=1, role="hub", unit=None, created_at=datetime.now(UTC)))


async def info(db: Database, unit: uuid.UUID) -> UnitInfo:
    async with db.read() as conn:
        found = await unit_info(conn, unit)
    assert found is not None
    return found


def grade(
    unit: uuid.UUID,
    member: uuid.UUID,
    doc: uuid.UUID,
    score: str,
    day: date,
    attempt: int = 1,
    obligation: str = "obliged",
) -> EssayGradeRecord:
    value = Decimal(score)
    return EssayGradeRecord(
        id=new_id(),
        owner=unit,
        audience=None,
        rev=1,
        deleted=False,
        member=member,
        member_unit=unit,
        document=doc,
        attempt=attempt,
        score=value,
        band=str(band_of(value)),
        graded_on=day,
        obligation=obligation,
    )


def member(unit: uuid.UUID, obligation: str = "obliged") -> MemberRecord:
    return MemberRecord(
        id=new_id(),
        owner=unit,
        audience=None,
        rev=1,
        deleted=False,
        full_name="Đảng viên mẫu",
        birth_year=1950,
        obligation=obligation,
    )


def check_levels(result: Consolidation) -> None:
    assert result.reconciles, "own + sum of children must equal the whole subtree (D26)"
    assert result.own + total(r.figures for r in result.children) == result.figures


async def seed_small(db: Database) -> tuple[dict[str, uuid.UUID], DocumentRecord]:
    """The ten-unit province with hand-countable rosters, essays, sessions, propaganda and reports."""
    units = {u.current.code: u for u in small_sample_units()}
    ids = {code: u.id for code, u in units.items()}
    await seed_tree(db, list(units.values()))
    doc = document(ids["TU"])
    m = {name: new_id() for name in "abcdefg"}
    async with db.write() as conn:
        await store.apply(conn, DOCUMENT, [doc], origin=None)
        # Rosters: H1B1C1 three obliged and one over 60; H1B1C2 one obliged; H2B1C1 two obliged.
        roster = [member(ids["H1B1C1"]) for _ in range(3)] + [member(ids["H1B1C1"], "over_60")]
        roster += [member(ids["H1B1C2"]), member(ids["H2B1C1"]), member(ids["H2B1C1"])]
        await store.apply(conn, MEMBER, roster, origin=None)
        assert await refresh_roster_counts(conn, TODAY) == 3
        assert await refresh_roster_counts(conn, TODAY) == 0, "unchanged counts are not rewritten"
        await store.apply(
            conn,
            ESSAY_GRADE,
            [
                grade(ids["H1B1C1"], m["a"], doc.id, "9.5", date(2024, 5, 1)),
                grade(ids["H1B1C1"], m["b"], doc.id, "4.0", date(2024, 5, 1)),  # Yếu, rewritten to Khá
                grade(ids["H1B1C1"], m["b"], doc.id, "7.5", date(2024, 6, 1), attempt=2),
                grade(ids["H1B1C1"], m["c"], doc.id, "3.5", date(2024, 5, 1)),  # Yếu, rewrite open
                grade(ids["H1B1C1"], m["d"], doc.id, "6.0", date(2024, 5, 1), obligation="over_60"),
                grade(ids["H1B1C2"], m["e"], doc.id, "4.5", date(2024, 5, 1)),  # Yếu, rewritten after the cut-off
                grade(ids["H1B1C2"], m["e"], doc.id, "8.0", date(2025, 1, 5), attempt=2),
                grade(ids["H2B1C1"], m["f"], doc.id, "8.0", date(2024, 5, 1)),
                grade(ids["H2B1C1"], m["g"], doc.id, "9.0", date(2025, 1, 2)),  # after the cut-off: not counted
            ],
            origin=None,
        )
        session = StudySessionRecord(
            id=new_id(),
            owner=ids["H1"],
            audience=None,
            rev=1,
            deleted=False,
            title="Hội nghị quán triệt",
            documents=[doc.id],
            held_on=date(2022, 2, 1),
            form="mixed",
            participants="Cán bộ chủ chốt",
            invited=120,
            attended=114,
        )
        own_session = StudySessionRecord(
            id=new_id(),
            owner=ids["TU"],
            audience=None,
            rev=1,
            deleted=False,
            title="Hội nghị cán bộ toàn tỉnh",
            documents=[doc.id],
            held_on=date(2022, 1, 10),
            form="in_person",
            participants="Cán bộ chủ chốt tỉnh",
            invited=300,
            attended=290,
        )
        await store.apply(conn, STUDY_SESSION, [session, own_session], origin=None)
        await store.apply(
            conn,
            PROPAGANDA,
            [
                PropagandaRecord(
                    id=new_id(),
                    owner=ids["H2B1"],
                    audience=None,
                    rev=1,
                    deleted=False,
                    channel="loudspeaker",
                    document=doc.id,
                    period_start=date(2022, 1, 1),
                    period_end=date(2022, 3, 31),
                    count=24,
                    reached=5000,
                ),
                PropagandaRecord(
                    id=new_id(),
                    owner=ids["H2B1"],
                    audience=None,
                    rev=1,
                    deleted=False,
                    channel="oral",
                    document=doc.id,
                    period_start=date(2025, 1, 2),
                    period_end=date(2025, 1, 31),
                    count=3,
                    reached=90,
                ),  # began after the cut-off
            ],
            origin=None,
        )
        # Reports (D21, D25a): bases are due 28 days before the province, districts 14 days before.
        reports = [
            ("H1B1", date(2024, 11, 20)),  # on time (due 22/11/2024)
            ("H1B2", date(2024, 11, 30)),  # late
            ("H1", date(2024, 12, 1)),  # on time (due 06/12/2024)
        ]
        await store.apply(
            conn,
            REVIEW_REPORT,
            [
                ReviewReportRecord(
                    id=new_id(),
                    owner=ids[code],
                    audience=None,
                    rev=1,
                    deleted=False,
                    document=doc.id,
                    kind="preliminary",
                    held_on=day,
                    cut_off=DUE,
                )
                for code, day in reports
            ],
            origin=None,
        )
    return ids, doc


async def test_d12_d13_d20_d26_small_province_figures_and_reconciliation(db: Database) -> None:
    ids, doc = await seed_small(db)
    cells = ("H1B1C1", "H1B1C2", "H2B1C1")
    async with db.read() as conn:
        result = await consolidate(conn, await info(db, ids["TU"]), doc.id, "preliminary", today=TODAY)
        h1 = await consolidate(conn, await info(db, ids["H1"]), doc.id, "preliminary", today=TODAY)
    check_levels(result)
    check_levels(h1)
    assert result.cut_off == DUE == result.due
    essays = result.figures.essays
    assert (essays.obliged.members, essays.obliged.wrote, essays.encouraged.members, essays.encouraged.wrote) == (
        6,
        5,
        1,
        1,
    )
    assert dict(essays.obliged.bands) == {"Tốt": 1, "Khá": 2, "Trung bình": 0, "Yếu": 2}
    assert essays.obliged.rewrites_open == 2, "c's only attempt and e's attempt before the cut-off are Yếu (D13, D20)"
    assert essays.obliged.rewritten == 1
    assert essays.shortfall == 1
    assert essays.obliged.rate == "83,3%"
    assert result.figures.study.sessions == 2
    assert result.own.study.attended == 290, "the province's own session is its own row, not a district's"
    assert result.figures.propaganda.channel("loudspeaker").reached == 5000
    assert result.figures.propaganda.channel("oral").activities == 0
    rows = {r.unit.code: r.figures for r in result.children}
    assert rows["H1"] == h1.figures, "the district's own consolidation equals its row at the province (D26)"
    assert rows["H1"].essays.obliged.wrote == 4
    assert rows["H2"].essays.obliged.members == 2
    # Expected reports: TU itself, H1, H2, H1B1, H1B2, H2B1, H2B2 (cells report through their base organisation).
    reports_fig = result.figures.reports
    assert (reports_fig.expected, reports_fig.received, reports_fig.on_time, reports_fig.late) == (7, 3, 2, 1)
    assert reports_fig.overdue == 4
    assert result.own.reports.expected == 1
    assert h1.figures.reports.expected == 3
    assert {(i.unit.code, i.status) for i in result.late} == {
        ("H1B2", Timeliness.LATE),
        ("H2B1", Timeliness.OVERDUE),
        ("H2B2", Timeliness.OVERDUE),
        ("H2", Timeliness.OVERDUE),
        ("TU", Timeliness.OVERDUE),
    }
    assert {r.unit.code for r in result.bases} == set(cells)
    # Any date may be asked for: at 31/05/2024 only first attempts of May count.
    async with db.read() as conn:
        earlier = await consolidate(
            conn, await info(db, ids["TU"]), doc.id, "preliminary", today=TODAY, cut_off=date(2024, 5, 31)
        )
    assert earlier.figures.essays.obliged.band("Khá") == 1
    assert earlier.figures.essays.obliged.rewrites_open == 3
    check_levels(earlier)


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_d26_full_size_province_equals_the_sum_of_its_districts(backend: str, make_database_url) -> None:  # type: ignore[no-untyped-def]
    """119,000 members, one essay each (plus rewrites), on PostgreSQL: the hub's figures reconcile level by level."""
    started = time.perf_counter()
    db = Database(await make_database_url(backend))
    try:
        units = sample_units(seed=2025, scale=1.0)
        root = units[0]
        await seed_tree(db, units)
        doc = document(root.id)
        sample = sample_round(units, doc.id, graded_from=date(2024, 3, 1), seed=11)
        async with db.write() as conn:
            await store.apply(conn, DOCUMENT, [doc], origin=None)
            await store.apply(conn, ROSTER_COUNT, sample.rosters, origin=None)
            for i in range(0, len(sample.essays), 50_000):
                await store.apply(conn, ESSAY_GRADE, sample.essays[i : i + 50_000], origin=None)
        async with db.write() as conn:
            await conn.execute(text("ANALYZE"))  # what autovacuum does after a bulk load in production
        loaded = time.perf_counter()
        async with db.read() as conn:
            result = await consolidate(conn, await info(db, root.id), doc.id, "preliminary", today=TODAY)
        computed = time.perf_counter()
        check_levels(result)
        members = sum(r.obliged + r.encouraged for r in sample.rosters)
        assert 118_000 <= members <= 119_000
        essays = result.figures.essays
        assert essays.obliged.members + essays.encouraged.members == members
        latest: dict[uuid.UUID, EssayGradeRecord] = {}
        for e in sample.essays:
            if e.graded_on <= DUE and (e.member not in latest or e.attempt > latest[e.member].attempt):
                latest[e.member] = e
        assert essays.wrote == len(latest)
        assert {b: essays.band(b) for b in ("Tốt", "Khá", "Trung bình", "Yếu")} == dict(
            Counter(e.band for e in latest.values())
        )
        assert essays.rewrites_open == sum(e.band == "Yếu" for e in latest.values())
        assert len(result.children) == 103
        # A district's own consolidation equals its row at the province, for every district.
        rows = {r.unit.id: r.figures for r in result.children}
        async with db.read() as conn:
            for child in list(rows)[::17]:
                own = await consolidate(conn, await info(db, child), doc.id, "preliminary", today=TODAY)
                check_levels(own)
                assert own.figures == rows[child]
        async with db.read() as conn:
            count = (await conn.execute(select(ESSAY_GRADE.table.c.id).limit(1))).first()
        assert count is not None
        print(
            f"\nfull size: {len(units)} units, {members} members, {len(sample.essays)} graded attempts; "
            f"load {loaded - started:.1f}s, consolidate {computed - loaded:.2f}s"
        )
    finally:
        await db.dispose()


async def test_d1a_a_past_review_keeps_the_tree_of_its_cut_off_and_a_later_one_follows_the_merge(
    db: Database,
) -> None:
    """H2 merged into H1 after the review's cut-off: the review still shows H2; a later cut-off counts it in H1."""
    ids, doc = await seed_small(db)
    async with db.read() as conn:
        before = await consolidate(conn, await info(db, ids["TU"]), doc.id, "preliminary", today=TODAY)
    merged_on, later = date(2025, 3, 1), date(2025, 6, 30)
    async with db.write() as conn:
        held = await load_units(conn)
        h1 = next(u for u in held if u.id == ids["H1"])
        await store_units(conn, merge(Tree.of(held), [ids["H2"]], h1, merged_on))
    async with db.read() as conn:
        tu = await info(db, ids["TU"])
        past = await consolidate(conn, tu, doc.id, "preliminary", today=TODAY)
        now = await consolidate(conn, tu, doc.id, "preliminary", today=later, cut_off=later)
    assert past == before, "the review due 20/12/2024 is reported by the tree of that day (D1a)"
    check_levels(now)
    assert [r.unit.code for r in now.children] == ["H1"]
    h1_now = now.children[0].figures
    assert h1_now.essays.obliged.members == 6, "H2's members count in H1 after the merge"
    assert h1_now.essays + now.own.essays == now.figures.essays
    assert now.figures.reports.expected == 6, "H2 no longer exists to report; its bases report within H1"
    assert {r.unit.code for r in now.bases} == {"H1B1C1", "H1B1C2", "H2B1C1"}
