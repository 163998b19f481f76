"""The records consolidation tests count by hand (D12-D26): a ten-unit province, its programmes and a survey."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert

from shared.calendar.records import REVIEW_REPORT, ReviewReportRecord
from shared.core.scope import UnitInfo, unit_info
from shared.db.engine import Database
from shared.documents.records import DOCUMENT, DocumentRecord
from shared.domain.consolidation import Consolidation, total
from shared.domain.grades import band_of
from shared.domain.tree import Unit
from shared.essays.records import ESSAY_GRADE, EssayGradeRecord
from shared.ids import new_id
from shared.members.counts import refresh_roster_counts
from shared.members.records import MEMBER, MemberRecord
from shared.programmes.records import (
    ACTION_PROGRAMME,
    PROGRAMME_PROGRESS,
    ActionProgrammeRecord,
    ProgressRecord,
    Target,
)
from shared.sample_activity import envelope
from shared.sample_province import small_sample_units
from shared.study.records import PROPAGANDA, STUDY_SESSION, PropagandaRecord, StudySessionRecord
from shared.surveys.records import (
    QUESTIONNAIRE,
    SURVEY_RESPONSE,
    AnswerWire,
    QuestionnaireRecord,
    QuestionWire,
    SurveyResponseRecord,
)
from shared.sync import store
from shared.sync.tables import Identity
from shared.units.records import store_units

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
        await seed_programmes(conn, ids, doc.id)
        await seed_survey(conn, ids, doc.id)
    return ids, doc


def _target(baseline: str, value: str, deadline: date) -> Target:
    return Target(new_id(), "Chỉ tiêu mẫu", "%", Decimal(baseline), "Khảo sát 2021", Decimal(value), deadline)


async def seed_programmes(conn: Any, ids: dict[str, uuid.UUID], doc: uuid.UUID) -> None:
    """TU: one target, no progress. H1: a rising target short of its value at the cut-off (met only after it), a
    falling target met, a target past its deadline with no report. H1B1: a target met by its latest year. H2: issued
    after the cut-off, not counted."""
    t1, t2, t3 = (
        _target("80", "95", date(2025, 12, 31)),
        _target("10", "5", date(2024, 6, 30)),
        _target("0", "20", date(2024, 10, 31)),
    )
    base = _target("50", "100", date(2024, 12, 31))

    def programme(code: str, issued: date, targets: list[Target]) -> ActionProgrammeRecord:
        return ActionProgrammeRecord(
            **envelope(ids[code]),  # type: ignore[arg-type]
            document=doc,
            kind="programme",
            number="",
            title=f"Chương trình hành động của {code}",
            issued_on=issued,
            situation="Khảo sát thực trạng",
            targets=targets,
            tasks=[],
        )

    h1 = programme("H1", date(2022, 1, 15), [t1, t2, t3])
    h1b1 = programme("H1B1", date(2022, 3, 1), [base])
    await store.apply(
        conn,
        ACTION_PROGRAMME,
        [
            programme("TU", date(2022, 1, 5), [_target("70", "90", date(2025, 12, 31))]),
            h1,
            h1b1,
            programme("H2", date(2025, 1, 5), [_target("0", "1", date(2025, 12, 31))]),
        ],
        origin=None,
    )

    def progress(p: ActionProgrammeRecord, t: Target, year: int, value: str, on: date) -> ProgressRecord:
        return ProgressRecord(
            **envelope(p.owner),  # type: ignore[arg-type]
            programme=p.id,
            target=t.key,
            year=year,
            reported_on=on,
            value=Decimal(value),
        )

    await store.apply(
        conn,
        PROGRAMME_PROGRESS,
        [
            progress(h1, t1, 2023, "90", date(2024, 1, 10)),
            progress(h1, t1, 2024, "96", date(2025, 1, 5)),  # after the cut-off
            progress(h1, t2, 2023, "4", date(2024, 1, 10)),
            progress(h1b1, base, 2022, "60", date(2023, 1, 5)),
            progress(h1b1, base, 2023, "100", date(2024, 1, 5)),
        ],
        origin=None,
    )


QUESTIONS = [
    QuestionWire("q1", "single", "Nắm được nội dung nghị quyết?", ["Rõ", "Chưa rõ"]),
    QuestionWire("q2", "multiple", "Hình thức tiếp cận", ["A", "B", "C"]),
    QuestionWire("q3", "scale", "Mức độ chuyển biến"),
    QuestionWire("q4", "number", "Số buổi sinh hoạt chuyên đề"),
    QuestionWire("q5", "text", "Đề xuất", required=False),
]


def _answers(single: str, multiple: list[str], scale: int, number: str, text: str = "") -> list[AnswerWire]:
    given = [
        AnswerWire("q1", [single]),
        AnswerWire("q2", multiple),
        AnswerWire("q3", value=Decimal(scale)),
        AnswerWire("q4", value=Decimal(number)),
    ]
    return [*given, AnswerWire("q5", text=text)] if text else given


async def seed_survey(conn: Any, ids: dict[str, uuid.UUID], doc: uuid.UUID) -> None:
    """Four responses by the cut-off (two identical ones at H1B1C1), one after it, one to another questionnaire."""

    def questionnaire(document: uuid.UUID | None) -> QuestionnaireRecord:
        return QuestionnaireRecord(
            **{**envelope(ids["TU"]), "audience": ids["TU"]},  # type: ignore[arg-type]
            document=document,
            title="Khảo sát kết quả học tập nghị quyết",
            method="form",
            opens_on=date(2024, 10, 1),
            closes_on=date(2025, 1, 31),
            questions=QUESTIONS,
            selected_units=[],
            respondents_per_unit=0,
        )

    ours, other = questionnaire(doc), questionnaire(None)
    await store.apply(conn, QUESTIONNAIRE, [ours, other], origin=None)

    def response(
        code: str, q: QuestionnaireRecord, group: str, on: date, answers: list[AnswerWire]
    ) -> SurveyResponseRecord:
        return SurveyResponseRecord(
            **envelope(ids[code]),  # type: ignore[arg-type]
            questionnaire=q.id,
            respondent=None,
            group=group,
            answered_on=on,
            method="form",
            answers=answers,
        )

    same = _answers("Rõ", ["A", "B"], 4, "10", "Tăng sinh hoạt chuyên đề")
    await store.apply(
        conn,
        SURVEY_RESPONSE,
        [
            response("H1B1C1", ours, "member", date(2024, 11, 1), same),
            response("H1B1C1", ours, "member", date(2024, 11, 2), same),
            response("H1B1C2", ours, "public", date(2024, 11, 3), _answers("Chưa rõ", ["C"], 2, "2.5")),
            response("H2B1C1", ours, "cadre", date(2024, 11, 5), _answers("Rõ", ["A"], 5, "7")),
            response("H2B1C1", ours, "public", date(2025, 1, 3), _answers("Rõ", ["A"], 1, "1")),  # after the cut-off
            response("H2B1C1", other, "public", date(2024, 11, 5), _answers("Rõ", ["A"], 1, "1")),
        ],
        origin=None,
    )
