"""Record makers for domain workflows II (programmes, surveys, report drafts), as the province's admin."""

from __future__ import annotations

from typing import Any

from tests.domain_harness import Maker

V = "/api/v1"

QUESTIONS: list[dict[str, Any]] = [
    {"key": "q1", "kind": "single", "text": "Đã học tập nghị quyết?", "options": ["Có", "Chưa"]},
    {"key": "q2", "kind": "multiple", "text": "Hình thức?", "options": ["Hội nghị", "Trực tuyến", "Tự học"]},
    {"key": "q3", "kind": "scale", "text": "Mức độ hiểu", "scale_min": 1, "scale_max": 5},
    {"key": "q4", "kind": "number", "text": "Số buổi sinh hoạt"},
    {"key": "q5", "kind": "text", "text": "Đề xuất", "required": False},
]


def answers(
    single: str = "Có", multiple: tuple[str, ...] = ("Hội nghị",), scale: int = 4, number: str = "3"
) -> list[dict[str, Any]]:
    return [
        {"question": "q1", "choices": [single]},
        {"question": "q2", "choices": list(multiple)},
        {"question": "q3", "value": scale},
        {"question": "q4", "value": number},
    ]


def target(**kw: Any) -> dict[str, Any]:
    return {
        "indicator": "Tỷ lệ đảng viên viết bài thu hoạch",
        "measure": "%",
        "baseline": "85",
        "baseline_source": "Khảo sát tháng 3/2021",
        "target_value": "98",
        "deadline": "2023-12-31",
        **kw,
    }


SECTIONS = [
    {"key": "1", "heading": "Kết quả", "text": "Đã học tập đầy đủ."},
    {"key": "2", "heading": "Hạn chế", "text": "Còn chậm."},
]


class FlowMaker(Maker):
    async def programme(self, owner: str, doc: dict[str, Any], **kw: Any) -> dict[str, Any]:
        body = {
            "document": doc["id"],
            "title": "Chương trình hành động thực hiện nghị quyết",
            "issued_on": "2021-04-01",
            "situation": "Khảo sát: 85% đảng viên viết bài thu hoạch năm 2020.",
            "targets": [target()],
            "unit": str(self.api.id(owner)),
            **kw,
        }
        return dict(await self.api.ok("POST", f"{V}/action-programmes", json=body))

    async def questionnaire(self, owner: str, **kw: Any) -> dict[str, Any]:
        body = {
            "title": "Khảo sát việc học tập nghị quyết",
            "opens_on": "2023-09-01",
            "closes_on": "2023-10-31",
            "questions": QUESTIONS,
            "unit": str(self.api.id(owner)),
            **kw,
        }
        return dict(await self.api.ok("POST", f"{V}/questionnaires", json=body))

    async def response(self, owner: str, q: dict[str, Any], **kw: Any) -> dict[str, Any]:
        body = {
            "questionnaire": q["id"],
            "answered_on": "2023-09-15",
            "group": "member",
            "answers": answers(),
            "unit": str(self.api.id(owner)),
            **kw,
        }
        return dict(await self.api.ok("POST", f"{V}/survey-responses", json=body))

    async def draft(self, owner: str, doc: dict[str, Any], kind: str = "preliminary") -> dict[str, Any]:
        body = {
            "document": doc["id"],
            "kind": kind,
            "title": "Báo cáo sơ kết",
            "sections": SECTIONS,
            "written_on": "2024-01-05",
            "unit": str(self.api.id(owner)),
        }
        return dict(await self.api.ok("POST", f"{V}/report-drafts", json=body))

    async def submitted(self, owner: str, doc: dict[str, Any]) -> dict[str, Any]:
        draft = await self.draft(owner, doc)
        return dict(
            await self.api.ok("POST", f"{V}/report-drafts/{draft['id']}/submit", json={"submitted_on": "2024-01-08"})
        )

    async def sent(self, owner: str, doc: dict[str, Any], issued_on: str = "2024-01-15") -> dict[str, Any]:
        """A draft taken through submission, approval and issue: the report is in at the level above."""
        draft = await self.submitted(owner, doc)
        url = f"{V}/report-drafts/{draft['id']}"
        await self.api.ok("POST", f"{url}/approve", json={"approved_on": "2024-01-10"})
        body = {"issued_on": issued_on, "report_number": f"{self.next()}-BC/ĐU"}
        return dict(await self.api.ok("POST", f"{url}/issue", json=body))
