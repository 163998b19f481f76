"""The demo's study round, entered at each node through its own API as its office staff would: the hub's documents
and review plans, and the questionnaire it sends down (D22); each base's roster, grades and rewrites (D12, D13),
study and propaganda; action programmes and their progress (D14, D15, D18); a district's report draft sent up and
the hub's decision on it (D23-D25b).
"""

from __future__ import annotations

import asyncio
import random
from datetime import date, timedelta
from typing import Any

from server.demo_cluster import Cluster, Instance, cluster_of
from shared.consolidation.labels import document_name
from shared.domain.formatting import format_date
from shared.domain.formatting import format_decimal as _n
from shared.members.counts import refresh_roster_counts

CENTRAL = ("45-NQ/TW", "Nghị quyết mẫu của Ban Chấp hành Trung ương (mô phỏng)", date(2021, 11, 24))
PROVINCIAL = ("15-NQ/TU", "Nghị quyết mẫu của Tỉnh ủy (mô phỏng)", date(2021, 12, 20))
ROUND_START = date(2022, 3, 1)
"""Essays are graded from here; the provincial resolution's preliminary review falls due on 20/12/2024 (D16)."""


async def enter_documents(run: Any) -> None:
    cluster = cluster_of(run)
    hub = cluster.hub
    for number, title, signed in (CENTRAL, PROVINCIAL):
        doc = await hub.post(
            "/documents",
            {
                "number": number,
                "title": title,
                "signed_on": signed.isoformat(),
                "lead_agency": "Ban Tuyên giáo và Dân vận Tỉnh ủy",
                "term": "2020-2025",
            },
        )
        cluster.documents[number] = doc["id"]
        run.console.print(f"  • Nhập {document_name(number)} ký ngày {format_date(signed)}: {title}")
    plans: list[dict[str, Any]] = [
        {"plan_kind": "year", "number": "01-KH/TU", "issued_on": "2023-12-15", "year": 2024},
        {"plan_kind": "term", "number": "05-KH/TU", "issued_on": "2025-10-20", "period_start": "2025-10-15"},
    ]
    for plan in plans:
        made = await hub.post("/review-plans", plan)
        run.console.print(
            f"  • Kế hoạch {made['number']} ({'năm 2024' if plan['plan_kind'] == 'year' else 'nhiệm kỳ 2025-2030'}):"
            f" {len(made['items'])} mốc sơ kết, tổng kết (D19)."
        )


async def record_round(run: Any) -> None:
    """Each base enters its roster, grades and rewrites, a study session, propaganda and its held review; each
    district its own session and propaganda; all through the node's local API, as its office staff would."""
    cluster = cluster_of(run)
    rng = random.Random(run.seed)
    doc = cluster.documents[PROVINCIAL[0]]
    members_per_base = max(12, round(40 * min(run.scale, 1.0)))
    late_base = cluster.bases[cluster.districts[0].code][-1].code
    entered = cluster.entered
    for district in cluster.districts:
        await district.post("/study-sessions", {
            "title": f"Hội nghị quán triệt {PROVINCIAL[0]}", "documents": [doc], "held_on": "2022-01-20",
            "form": "mixed", "invited": 150, "attended": 142, "participants": "Cán bộ chủ chốt",
        })  # fmt: skip
        await district.post("/propaganda", {
            "channel": "it", "document": doc, "period_start": "2022-01-01", "period_end": "2022-06-30",
            "count": 12, "reached": 8000,
        })  # fmt: skip
        bases = cluster.bases[district.code]

        async def one_base(base: Instance) -> None:
            await _base_round(base, doc, rng.randrange(1 << 30), members_per_base, entered, late=base.code == late_base)

        await asyncio.gather(*(one_base(b) for b in bases))
        if district is cluster.districts[0]:
            # D21: the other bases of the sample commune have no node in the demo, so the district waives them.
            await district.post("/review-reports", {
                "document": doc, "kind": "preliminary", "held_on": "2024-12-02",
                "waived_reason": "Các chi bộ chưa có máy (nút) báo cáo bằng văn bản giấy.",
            })  # fmt: skip
    run.console.print(
        f"Đã nhập tại các nút: {_n(entered['members'])} đảng viên trong danh sách, {_n(entered['essays'])} lượt "
        f"chấm bài thu hoạch (trong đó {_n(entered['rewrites'])} bài viết lại sau khi xếp loại Yếu), "
        f"{_n(entered['sessions'] + len(cluster.districts))} buổi học tập, "
        f"{_n(entered['propaganda'] + len(cluster.districts))} đợt tuyên truyền."
    )
    for node in cluster.nodes:
        db = node.database()
        try:
            async with db.write() as conn:
                await refresh_roster_counts(conn, ROUND_START)
        finally:
            await db.dispose()


async def _base_round(
    base: Instance, doc: str, seed: int, members: int, entered: dict[str, int], *, late: bool
) -> None:
    rng = random.Random(seed)
    for k in ("members", "essays", "rewrites", "sessions", "propaganda"):
        entered.setdefault(k, 0)
    for i in range(members):
        category = "obliged" if i < 2 or rng.random() < 0.75 else rng.choice(["over_60", "retired", "health"])
        member = await base.post("/members", {
            "full_name": f"Đảng viên mẫu {base.code}-{i + 1:03d}",
            "birth_year": 1950 if category in ("over_60", "retired") else rng.randint(1965, 2000),
            "obligation": category,
        })  # fmt: skip
        entered["members"] += 1
        if i >= 2 and rng.random() > (0.95 if category == "obliged" else 0.6):
            continue
        day = ROUND_START + timedelta(days=rng.randint(0, 40))
        # The first two members of every base are weak; only the second rewrites (D13): one rewrite stays open.
        tenths = rng.randint(30, 49) if i < 2 else rng.choice([rng.randint(30, 49)] + [rng.randint(55, 100)] * 6)
        await base.post("/essays", {"member": member["id"], "document": doc, "score": _score(tenths),
                                     "graded_on": day.isoformat()})  # fmt: skip
        entered["essays"] += 1
        if tenths < 50 and (i == 1 or (i > 1 and rng.random() < 0.6)):
            await base.post("/essays", {"member": member["id"], "document": doc, "score": _score(rng.randint(55, 85)),
                                         "graded_on": (day + timedelta(days=21)).isoformat()})  # fmt: skip
            entered["essays"] += 1
            entered["rewrites"] += 1
    await base.post("/study-sessions", {
        "title": "Học tập nghị quyết tại chi bộ", "documents": [doc], "held_on": "2022-02-10", "form": "in_person",
        "invited": members, "attended": members - rng.randint(0, 3), "participants": "Toàn thể đảng viên",
    })  # fmt: skip
    await base.post("/propaganda", {
        "channel": rng.choice(["loudspeaker", "oral"]), "document": doc, "period_start": "2022-01-15",
        "period_end": "2022-12-31", "count": rng.randint(5, 30), "reached": rng.randint(300, 2000),
    })  # fmt: skip
    entered["sessions"] += 1
    entered["propaganda"] += 1
    held = "2024-11-29" if late else "2024-11-18"  # bases are due on 22/11/2024 (D21, D25a)
    await base.post("/review-reports", {"document": doc, "kind": "preliminary", "held_on": held})


def _score(tenths: int) -> str:
    """As a grader types it: `8,5`, `10,0` (D13)."""
    return f"{tenths // 10},{tenths % 10}"


SURVEY_TITLE = f"Khảo sát mức độ tiếp thu, vận dụng Nghị quyết {PROVINCIAL[0]}"
SURVEY_QUESTIONS: list[dict[str, Any]] = [
    {"key": "q1", "kind": "single", "text": "Đồng chí đã được học tập, quán triệt nghị quyết chưa?",
     "options": ["Đã học tập", "Chưa học tập"]},
    {"key": "q2", "kind": "multiple", "text": "Đồng chí tiếp cận nội dung nghị quyết qua hình thức nào?",
     "options": ["Hội nghị", "Tài liệu", "Loa truyền thanh", "Mạng xã hội"]},
    {"key": "q3", "kind": "scale", "text": "Mức độ hiểu nội dung nghị quyết (1: chưa hiểu, 5: hiểu rõ)",
     "scale_min": 1, "scale_max": 5},
    {"key": "q4", "kind": "number", "text": "Số buổi sinh hoạt chuyên đề về nghị quyết đã dự trong năm"},
    {"key": "q5", "kind": "text", "text": "Đề xuất, kiến nghị", "required": False},
]  # fmt: skip
RESPONDENTS = ("member", "member", "cadre", "cadre", "public", "public")
"""Who each base selects (D22: đảng viên, cán bộ, quần chúng, chosen to be representative)."""
DRAFT_NUMBER = "25-BC/ĐU"


async def issue_questionnaire(run: Any) -> None:
    """The hub sends a questionnaire on the provincial resolution down its subtree (D22); the nodes' first sync
    brings it to them."""
    cluster = cluster_of(run)
    made = await cluster.hub.post("/questionnaires", {
        "title": SURVEY_TITLE, "document": cluster.documents[PROVINCIAL[0]], "method": "form",
        "opens_on": "2024-10-01", "closes_on": "2024-11-30", "questions": SURVEY_QUESTIONS,
        "respondents_per_unit": len(RESPONDENTS),
    })  # fmt: skip
    cluster.questionnaire = made["id"]
    run.console.print(
        f"  • Phiếu «{SURVEY_TITLE}»: {_n(len(SURVEY_QUESTIONS))} câu hỏi, từ {format_date(date(2024, 10, 1))} "
        f"đến {format_date(date(2024, 11, 30))}, mỗi cơ sở chọn {_n(len(RESPONDENTS))} người (D22)."
    )


async def record_programmes_and_surveys(run: Any) -> None:
    """Bases answer the survey; districts and bases build action programmes and report progress; the first
    district writes its review report, has it approved and sends it up (D24, D25), its bases' reports waived."""
    cluster = cluster_of(run)
    rng = random.Random(run.seed + 1)
    doc = cluster.documents[PROVINCIAL[0]]
    done: dict[str, int] = {"responses": 0, "programmes": 0, "targets": 0, "progress": 0}
    for district in cluster.districts:
        await _programme(district, doc, rng.randrange(1 << 30), "2022-02-15", done)

        async def one_base(base: Instance) -> None:
            seed = rng.randrange(1 << 30)
            await _programme(base, doc, seed, "2022-03-10", done)
            await _survey_answers(base, cluster.questionnaire, seed, done)

        await asyncio.gather(*(one_base(b) for b in cluster.bases[district.code]))
    run.console.print(
        f"Đã nhập tại các nút: {_n(done['responses'])} phiếu khảo sát đã trả lời, {_n(done['programmes'])} chương "
        f"trình hành động với {_n(done['targets'])} chỉ tiêu, {_n(done['progress'])} báo cáo tiến độ chỉ tiêu."
    )
    first = cluster.districts[0]
    waived = await _send_draft_up(first, doc, cluster)
    run.console.print(
        f"  • {first.code} miễn báo cáo của {_n(waived)} cơ sở trực thuộc (báo cáo giấy, D25b); dự thảo báo cáo sơ "
        f"kết trình ngày 27/11/2024, thông qua ngày 02/12/2024, ban hành số {DRAFT_NUMBER} ngày 03/12/2024 (D24, D25)."
    )


async def _programme(node: Instance, doc: str, seed: int, issued: str, done: dict[str, int]) -> None:
    """A programme with a rising and a falling target (D15), progress for 2022 and 2023 reported in January of the
    next year (D18), and a 2024 figure reported after the review's cut-off."""
    rng = random.Random(seed)
    made = await node.post("/action-programmes", {
        "document": doc, "title": f"Chương trình hành động thực hiện Nghị quyết {PROVINCIAL[0]}", "issued_on": issued,
        "situation": "Khảo sát thực trạng đầu năm 2022: 85% đảng viên viết bài thu hoạch đạt yêu cầu; 4 đảng viên "
        "vi phạm kỷ luật năm 2021.",
        "targets": [
            {"indicator": "Tỷ lệ đảng viên viết bài thu hoạch đạt yêu cầu", "measure": "%", "baseline": "85",
             "baseline_source": "Báo cáo tổng kết năm 2021", "target_value": "95", "deadline": "2024-12-31"},
            {"indicator": "Số đảng viên vi phạm kỷ luật đảng", "measure": "người", "baseline": "4",
             "baseline_source": "Báo cáo công tác kiểm tra năm 2021", "target_value": "1", "deadline": "2024-06-30"},
        ],
        "tasks": [{"title": "Tổ chức học tập, quán triệt nghị quyết", "lead_unit": str(node.unit)}],
    })  # fmt: skip
    rising, falling = made["targets"]
    values = [
        (rising, 2022, rng.randint(86, 91), "2023-01-10"),
        (rising, 2023, rng.randint(90, 97), "2024-01-10"),
        (falling, 2022, rng.randint(1, 4), "2023-01-10"),
        (falling, 2023, rng.randint(0, 2), "2024-01-10"),
        (rising, 2024, 99, "2025-01-08"),  # after the cut-off: not in the preliminary review
    ]
    for target, year, value, on in values:
        await node.post("/programme-progress", {
            "programme": made["id"], "target": target["key"], "year": year, "value": str(value), "reported_on": on,
        })  # fmt: skip
    done["programmes"] += 1
    done["targets"] += len(made["targets"])
    done["progress"] += len(values)


async def _survey_answers(base: Instance, questionnaire: str, seed: int, done: dict[str, int]) -> None:
    rng = random.Random(seed)
    options = SURVEY_QUESTIONS[1]["options"]
    for i, group in enumerate(RESPONDENTS):
        person = await base.post("/survey-respondents", {
            "questionnaire": questionnaire, "full_name": f"Người được khảo sát {base.code}-{i + 1}", "group": group,
        })  # fmt: skip
        answers: list[dict[str, Any]] = [
            {"question": "q1", "choices": ["Đã học tập" if rng.random() < 0.85 else "Chưa học tập"]},
            {"question": "q2", "choices": rng.sample(options, rng.randint(1, 3))},
            {"question": "q3", "value": rng.randint(2, 5)},
            {"question": "q4", "value": rng.randint(1, 12)},
        ]
        if i % 3 == 0:
            answers.append({"question": "q5", "text": "Tăng cường sinh hoạt chuyên đề tại chi bộ."})
        await base.post("/survey-responses", {
            "questionnaire": questionnaire, "respondent": person["id"],
            "answered_on": (date(2024, 10, 7) + timedelta(days=rng.randint(0, 40))).isoformat(), "answers": answers,
        })  # fmt: skip
        done["responses"] += 1


async def _send_draft_up(district: Instance, doc: str, cluster: Cluster) -> int:
    """D24, D25b: a level approves its report once its lower units' are in or waived; returns how many it waived."""
    status = await district.get("/reports/completeness", document=doc, kind="preliminary", today="2024-12-01")
    depth = next(u["depth"] for u in status["units"] if u["unit"] == str(district.unit))
    below = [
        u for u in status["units"] if u["depth"] == depth + 1 and u["state"] not in ("received", "accepted", "waived")
    ]
    for unit in below:
        await district.post("/report-decisions", {
            "action": "waive", "subject_unit": unit["unit"], "document": doc, "kind": "preliminary",
            "decided_on": "2024-12-01", "reason": "Cơ sở đã báo cáo bằng văn bản giấy, chưa có bản điện tử.",
        })  # fmt: skip
    draft = await district.post("/report-drafts", {
        "document": doc, "kind": "preliminary", "title": f"Báo cáo sơ kết 3 năm thực hiện Nghị quyết {PROVINCIAL[0]}",
        "written_on": "2024-11-25", "sections": [
            {"key": "1", "heading": "Kết quả học tập, quán triệt và tổ chức thực hiện",
             "text": "Các chi bộ, đảng bộ cơ sở đã tổ chức học tập đầy đủ; xây dựng chương trình hành động."},
            {"key": "2", "heading": "Hạn chế, nguyên nhân", "text": "Một số bài thu hoạch còn sơ sài."},
        ],
    })  # fmt: skip
    for action, body in (
        ("submit", {"submitted_on": "2024-11-27"}),
        ("approve", {"approved_on": "2024-12-02"}),
        ("issue", {"issued_on": "2024-12-03", "report_number": DRAFT_NUMBER}),
    ):
        await district.post(f"/report-drafts/{draft['id']}/{action}", body)
    cluster.draft = draft["id"]
    return len(below)


async def decide_on_drafts(run: Any) -> None:
    """The hub reads the district's report that arrived with the sync and returns it for correction (D25b)."""
    cluster = cluster_of(run)
    district = cluster.districts[0]
    reason = "Bổ sung kết quả khảo sát và tiến độ chỉ tiêu của các cơ sở trực thuộc."
    made = await cluster.hub.post("/report-decisions", {
        "action": "return", "subject_unit": str(district.unit), "document": cluster.documents[PROVINCIAL[0]],
        "kind": "preliminary", "decided_on": "2024-12-10", "reason": reason, "correct_by": "2024-12-17",
    })  # fmt: skip
    run.console.print(
        f"  • Tỉnh ủy trả lại báo cáo {DRAFT_NUMBER} (phiên bản {made['version']}) của {district.code} "
        f"{district.name} ngày 10/12/2024 để sửa, hạn 17/12/2024 (D25b). Lý do: {reason}"
    )
