"""Synthetic study-round activity for the synthetic province: roster counts and essays, action programmes and survey
responses, no person anywhere.

At full scale about 119,000 members (DOMAIN.md, "Scale") spread over the cells and the base organisations that
have no cells, every member graded once, the weak ones partly rewritten. Each roster-holding unit grades its
own members (D13: the base organisation grades its own), so the records are what the hub holds after sync.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from shared.core.service import new_record
from shared.documents.records import DOCUMENT, DocumentRecord
from shared.domain.grades import band_of
from shared.domain.obligations import OBLIGATIONS, OBLIGED
from shared.domain.tree import Unit, UnitKind
from shared.essays.records import ESSAY_GRADE, EssayGradeRecord
from shared.ids import new_id
from shared.members.rosters import ROSTER_COUNT, RosterCountRecord, roster_count_id
from shared.programmes.records import (
    ACTION_PROGRAMME,
    PROGRAMME_PROGRESS,
    ActionProgrammeRecord,
    ProgressRecord,
    Target,
)
from shared.surveys.records import (
    QUESTIONNAIRE,
    SURVEY_RESPONSE,
    AnswerWire,
    QuestionnaireRecord,
    QuestionWire,
    SurveyResponseRecord,
)
from shared.sync import store

FULL_MEMBERS = 119_000
_ENCOURAGED = tuple(o for o in OBLIGATIONS if o != OBLIGED)


def roster_units(units: Sequence[Unit]) -> list[Unit]:
    """Units holding a roster: cells, and base organisations without cells of their own."""
    parents = {u.current.parent for u in units}
    return [
        u
        for u in units
        if u.current.kind is UnitKind.CELL or (u.current.kind is UnitKind.BASE_ORGANISATION and u.id not in parents)
    ]


@dataclass(frozen=True, slots=True)
class SampleRound:
    """What one synthetic study round produced: counts per roster unit and every graded attempt."""

    rosters: list[RosterCountRecord]
    essays: list[EssayGradeRecord]


def sample_round(
    units: Sequence[Unit],
    document: uuid.UUID,
    *,
    members: int = FULL_MEMBERS,
    graded_from: date,
    seed: int = 2025,
) -> SampleRound:
    """A study round over `units` with about `members` members, each graded once; ~3% Yếu, half of them rewritten."""
    rng = random.Random(seed)
    holders = roster_units(units)
    per_unit = _spread(rng, members, len(holders))
    rosters: list[RosterCountRecord] = []
    essays: list[EssayGradeRecord] = []
    for unit, count in zip(holders, per_unit, strict=True):
        categories: dict[str, int] = {}
        for _ in range(count):
            obligation = OBLIGED if rng.random() < 0.8 else rng.choice(_ENCOURAGED)
            categories[obligation] = categories.get(obligation, 0) + 1
            if obligation != OBLIGED and rng.random() < 0.35:
                continue  # an encouraged member who wrote nothing is not a shortfall (D12)
            if obligation == OBLIGED and rng.random() < 0.02:
                continue  # an obliged member who has not written: a shortfall
            essays.extend(_attempts(rng, unit.id, document, obligation, graded_from))
        obliged = categories.get(OBLIGED, 0)
        rosters.append(
            RosterCountRecord(
                id=roster_count_id(unit.id),
                owner=unit.id,
                audience=None,
                rev=1,
                deleted=False,
                as_of=graded_from,
                obliged=obliged,
                encouraged=count - obliged,
                by_category=categories,
            )
        )
    return SampleRound(rosters, essays)


def _spread(rng: random.Random, total: int, slots: int) -> list[int]:
    weights = [rng.uniform(0.5, 1.5) for _ in range(slots)]
    scale = total / sum(weights)
    counts = [int(w * scale) for w in weights]
    for i in rng.sample(range(slots), total - sum(counts)):
        counts[i] += 1
    return counts


def _score(rng: random.Random) -> Decimal:
    roll = rng.random()
    if roll < 0.03:
        tenths = rng.randint(20, 49)
    elif roll < 0.15:
        tenths = rng.randint(50, 69)
    elif roll < 0.70:
        tenths = rng.randint(70, 89)
    else:
        tenths = rng.randint(90, 100)
    return Decimal(tenths).scaleb(-1)


def _attempts(
    rng: random.Random, unit: uuid.UUID, document: uuid.UUID, obligation: str, start: date
) -> Iterator[EssayGradeRecord]:
    member = uuid.UUID(int=rng.getrandbits(128), version=4)
    day = start + timedelta(days=rng.randint(0, 20))
    score = _score(rng)
    attempt = 1
    while True:
        yield new_record(
            EssayGradeRecord,
            unit,
            member=member,
            member_unit=unit,
            document=document,
            attempt=attempt,
            score=score,
            band=str(band_of(score)),
            graded_on=day,
            obligation=obligation,
        )
        if score >= 5 or rng.random() < 0.5:
            return
        attempt += 1
        day += timedelta(days=rng.randint(5, 15))
        score = Decimal(rng.randint(45, 85)).scaleb(-1)


@dataclass(frozen=True, slots=True)
class SampleFollowUp:
    """Action programmes with progress (D14, D15, D18) and survey responses (D22) of a synthetic round."""

    programmes: list[ActionProgrammeRecord]
    progress: list[ProgressRecord]
    questionnaire: QuestionnaireRecord
    responses: list[SurveyResponseRecord]


SAMPLE_QUESTIONS = [
    QuestionWire("q1", "single", "Đã được học tập, quán triệt nghị quyết?", ["Đã học tập", "Chưa học tập"]),
    QuestionWire("q2", "multiple", "Hình thức tiếp cận", ["Hội nghị", "Tài liệu", "Mạng xã hội"]),
    QuestionWire("q3", "scale", "Mức độ hiểu nội dung nghị quyết"),
    QuestionWire("q4", "number", "Số buổi sinh hoạt chuyên đề đã dự"),
]


def sample_follow_up(
    units: Sequence[Unit], document: uuid.UUID, *, issued_from: date, seed: int = 2025, respondents: int = 3
) -> SampleFollowUp:
    """Most units that build programmes (all but cells, D14) build one with two targets and report progress for some
    years; every base organisation answers the root's questionnaire with `respondents` people. Dates straddle
    `issued_from` + 3 years, so a cut-off there leaves some out."""
    rng = random.Random(seed)
    root = units[0]
    programmes: list[ActionProgrammeRecord] = []
    progress: list[ProgressRecord] = []
    responses: list[SurveyResponseRecord] = []
    questionnaire = QuestionnaireRecord(
        id=new_id(), owner=root.id, audience=root.id, rev=1, deleted=False, document=document,
        title="Khảo sát mẫu về nghị quyết", method="form", opens_on=issued_from, closes_on=issued_from.replace(
            year=issued_from.year + 4), questions=SAMPLE_QUESTIONS, selected_units=[], respondents_per_unit=respondents,
    )  # fmt: skip
    for unit in units:
        kind = unit.current.kind
        if kind is not UnitKind.CELL and rng.random() < 0.8:
            programme, reports = _programme(rng, unit.id, document, issued_from)
            programmes.append(programme)
            progress.extend(reports)
        if kind is UnitKind.BASE_ORGANISATION:
            responses.extend(_response(rng, unit.id, questionnaire, issued_from) for _ in range(respondents))
    return SampleFollowUp(programmes, progress, questionnaire, responses)


def envelope(owner: uuid.UUID) -> dict[str, object]:
    """A new record's first revision, written by `owner`'s instance, addressed to no one below (fields of `Record`)."""
    return {"id": new_id(), "owner": owner, "audience": None, "rev": 1, "deleted": False}


def _programme(
    rng: random.Random, unit: uuid.UUID, document: uuid.UUID, start: date
) -> tuple[ActionProgrammeRecord, list[ProgressRecord]]:
    issued = start + timedelta(days=rng.randint(0, 1200))
    targets = [
        Target(new_id(), "Tỷ lệ đảng viên viết bài thu hoạch", "%", Decimal(85), "Báo cáo năm trước", Decimal(95),
               issued + timedelta(days=rng.randint(200, 1000))),
        Target(new_id(), "Số đảng viên vi phạm kỷ luật", "người", Decimal(4), "Báo cáo kiểm tra", Decimal(1),
               issued + timedelta(days=rng.randint(200, 1000))),
    ]  # fmt: skip
    programme = ActionProgrammeRecord(
        **{**envelope(unit), "audience": unit},  # type: ignore[arg-type]
        document=document, kind="programme", number="", title="Chương trình hành động", issued_on=issued,
        situation="Khảo sát thực trạng", targets=targets, tasks=[],
    )  # fmt: skip
    reports = []
    for target, low, high in ((targets[0], 80, 99), (targets[1], 0, 5)):
        for year in range(issued.year, issued.year + rng.randint(0, 3)):
            reports.append(
                ProgressRecord(
                    **envelope(unit),  # type: ignore[arg-type]
                    programme=programme.id,
                    target=target.key,
                    year=year,
                    reported_on=date(year + 1, 1, rng.randint(5, 25)),
                    value=Decimal(rng.randint(low, high)),
                )
            )
    return programme, reports


def _response(rng: random.Random, unit: uuid.UUID, q: QuestionnaireRecord, start: date) -> SurveyResponseRecord:
    answers = [
        AnswerWire("q1", [rng.choice(["Đã học tập", "Đã học tập", "Chưa học tập"])]),
        AnswerWire("q2", rng.sample(["Hội nghị", "Tài liệu", "Mạng xã hội"], rng.randint(1, 2))),
        AnswerWire("q3", value=Decimal(rng.randint(1, 5))),
        AnswerWire("q4", value=Decimal(rng.randint(0, 6))),
    ]
    return SurveyResponseRecord(
        **envelope(unit),  # type: ignore[arg-type]
        questionnaire=q.id, respondent=None, group=rng.choice(["member", "cadre", "public"]),
        answered_on=start + timedelta(days=rng.randint(0, 1400)), method="form", answers=answers,
    )  # fmt: skip


async def store_sample(
    conn: AsyncConnection, document: DocumentRecord, rnd: SampleRound, follow: SampleFollowUp
) -> None:
    """Write a synthetic round and its follow-up as this instance's own records (tests and benchmarks)."""
    await store.apply(conn, DOCUMENT, [document], origin=None)
    await store.apply(conn, ROSTER_COUNT, rnd.rosters, origin=None)
    for i in range(0, len(rnd.essays), 50_000):  # bounded statements for the province's ~110,000 grades
        await store.apply(conn, ESSAY_GRADE, rnd.essays[i : i + 50_000], origin=None)
    await store.apply(conn, ACTION_PROGRAMME, follow.programmes, origin=None)
    await store.apply(conn, PROGRAMME_PROGRESS, follow.progress, origin=None)
    await store.apply(conn, QUESTIONNAIRE, [follow.questionnaire], origin=None)
    await store.apply(conn, SURVEY_RESPONSE, follow.responses, origin=None)
