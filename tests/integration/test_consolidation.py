"""Consolidation (D20, D26): every level's figures as of the cut-off, and the province equal to its districts' sum."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from shared.consolidation.service import consolidate
from shared.db.engine import Database
from shared.domain.consolidation import Consolidation
from shared.domain.deadlines import Timeliness
from shared.domain.programmes import target_met
from shared.domain.tree import Tree, merge
from shared.essays.records import ESSAY_GRADE, EssayGradeRecord
from shared.programmes.records import (
    ProgressRecord,
)
from shared.sample_activity import SampleFollowUp, sample_follow_up, sample_round, store_sample
from shared.sample_province import sample_units
from shared.units.records import load_units, store_units
from tests.integration.consolidation_seed import DUE, TODAY, check_levels, document, info, seed_small, seed_tree


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


async def test_d14_d15_d18_d22_d26_programmes_and_surveys_counted_by_hand(db: Database) -> None:
    """Programmes issued and progress reported by the cut-off (D14, D15, D18) and survey responses answered by it
    (D22), with the province equal to its own row plus its districts' (D26)."""
    ids, doc = await seed_small(db)
    async with db.read() as conn:
        result = await consolidate(conn, await info(db, ids["TU"]), doc.id, "preliminary", today=TODAY)
        h1 = await consolidate(conn, await info(db, ids["H1"]), doc.id, "preliminary", today=TODAY)
    check_levels(result)
    check_levels(h1)
    rows = {r.unit.code: r.figures for r in result.children}
    p = result.figures.programmes
    # (programmes, units, targets, reported, met, overdue)
    assert (p.programmes, p.units, p.targets, p.reported, p.met, p.overdue) == (3, 3, 5, 3, 2, 1)
    assert p.met_rate == "40%"
    own = result.own.programmes
    assert (own.programmes, own.targets, own.reported) == (1, 1, 0)
    h1p = rows["H1"].programmes
    assert (h1p.programmes, h1p.units, h1p.targets, h1p.reported, h1p.met, h1p.overdue) == (2, 2, 4, 3, 2, 1)
    assert rows["H2"].programmes.programmes == 0, "issued after the cut-off (D20)"
    assert h1.figures == rows["H1"], "the district's own consolidation equals its row at the province (D26)"

    s = result.figures.surveys
    assert len(s.questionnaires) == 1, "only questionnaires on the document count"
    (q,) = s.questionnaires.values()
    assert q.responses == 4
    assert dict(q.by_group) == {"member": 2, "public": 1, "cadre": 1}
    q1, q2, q3, q4, q5 = q.questions
    assert dict(q1.counts) == {"Rõ": 3, "Chưa rõ": 1}
    assert dict(q2.counts) == {"A": 3, "B": 2, "C": 1}
    assert dict(q3.counts) == {"1": 0, "2": 1, "3": 0, "4": 2, "5": 1}
    assert (q3.answered, q3.total, q3.mean) == (4, 15, Decimal("3.75"))
    assert (q4.total, q4.mean) == (Decimal("29.5"), Decimal("7.375"))
    assert q5.answered == 2
    assert rows["H1"].surveys.responses == 3
    assert rows["H2"].surveys.group("cadre") == 1
    assert result.own.surveys.responses == 0, "the province wrote the questionnaire; its subtree answered it"
    async with db.read() as conn:
        earlier = await consolidate(
            conn, await info(db, ids["TU"]), doc.id, "preliminary", today=TODAY, cut_off=date(2023, 12, 31)
        )
    check_levels(earlier)
    assert earlier.figures.surveys.responses == 0
    e = earlier.figures.programmes
    assert (e.programmes, e.reported, e.met, e.overdue) == (3, 1, 0, 0), "only H1B1's 2022 value (60) by then"


def check_follow_up(result: Consolidation, follow: SampleFollowUp) -> None:
    """D14, D15, D18, D22: the province's programme and survey figures recounted from the records, record by record."""
    latest: dict[tuple[uuid.UUID, uuid.UUID], ProgressRecord] = {}
    for p in follow.progress:
        held = latest.get((p.programme, p.target))
        if p.reported_on <= DUE and (held is None or (p.year, p.reported_on) > (held.year, held.reported_on)):
            latest[(p.programme, p.target)] = p
    counted = [p for p in follow.programmes if p.issued_on <= DUE]
    states = [(t, latest.get((p.id, t.key))) for p in counted for t in p.targets]
    met = [t for t, last in states if last is not None and target_met(t.baseline, t.target_value, last.value)]
    figures = result.figures.programmes
    assert (figures.programmes, figures.units, figures.targets) == (len(counted), len(counted), len(states))
    assert figures.reported == sum(last is not None for _, last in states)
    assert figures.met == len(met)
    assert figures.overdue == sum(t.deadline < DUE and t not in met for t, _ in states)
    assert 0 < figures.met < figures.targets
    answered = [r for r in follow.responses if r.answered_on <= DUE]
    assert 0 < len(answered) < len(follow.responses), "the cut-off leaves later responses out (D20)"
    (q,) = result.figures.surveys.questionnaires.values()
    assert dict(q.by_group) == dict(Counter(r.group for r in answered))
    assert q.questions[2].total == sum(a.value or 0 for r in answered for a in r.answers if a.question == "q3")


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
        follow = sample_follow_up(units, doc.id, issued_from=date(2022, 1, 1), seed=12)
        async with db.write() as conn:
            await store_sample(conn, doc, sample, follow)
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
        check_follow_up(result, follow)
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
            f"\nfull size: {len(units)} units, {members} members, {len(sample.essays)} graded attempts, "
            f"{len(follow.programmes)} programmes, {len(follow.progress)} progress reports, "
            f"{len(follow.responses)} survey responses; "
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
