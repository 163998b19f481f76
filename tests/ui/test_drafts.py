"""The report pages (D23–D25b): a base unit's draft from first version to issue, comments from the district, and the
district's decisions — through the forms, on both databases, with refusals shown next to the field."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from shared.catalogue import build_registry
from shared.db.engine import Database
from shared.drafts.records import REPORT_COMMENT, REPORT_DECISION, REPORT_DRAFT, REPORT_MEETING
from shared.settings import SyncSettings
from shared.sync.parent import Parent
from shared.sync.protocol import PROTOCOL, EnrolRequest
from tests.domain_harness import Maker
from tests.ui.conftest import Ui, text_of

H1 = ("H1", "admin")


async def _count(db: Database, rt: object) -> int:
    async with db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(rt.table))).scalar_one())  # type: ignore[attr-defined]


def _error(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="error" id="{field_id}">([^<]*)</p>', html)
    assert match, f"no error shown for {field_id}"
    return match.group(1)


async def _start(ui: Ui, doc: dict[str, object], unit: str = "H1B1") -> str:
    uid = ui.api.id(unit)
    started = await ui.post(
        f"/bao-cao/moi?unit={uid}",
        H1,
        {
            "document": doc["id"],
            "kind": "preliminary",
            "title": "Báo cáo sơ kết 3 năm",
            "written_on": "05/01/2024",
            "section-ket-qua": "Đã học tập, quán triệt đầy đủ.",
        },
    )
    assert started.status_code == 303, text_of(started.text)
    return str(started.headers["location"]).split("?")[0]


async def test_d24_a_draft_started_on_the_page_keeps_what_was_typed_when_refused(ui: Ui, mk: Maker) -> None:
    doc = await mk.doc("TU")
    uid = ui.api.id("H1B1")
    empty = await ui.page(f"/bao-cao?unit={uid}&document={doc['id']}", H1)
    assert "chưa có dự thảo báo cáo" in text_of(empty)
    refused = await ui.post(
        f"/bao-cao/moi?unit={uid}",
        H1,
        {
            "document": doc["id"],
            "kind": "preliminary",
            "title": "",
            "written_on": "31/02/2024",
            "section-ket-qua": "Nội dung đã gõ",
        },
    )
    assert refused.status_code == 422
    assert _error(refused.text, "n-e-title") == "Nhập tên báo cáo."
    assert _error(refused.text, "n-e-written_on")
    assert "Nội dung đã gõ" in refused.text
    assert await _count(ui.api.db, REPORT_DRAFT) == 0

    url = await _start(ui, doc)
    page = text_of(await ui.page(url, H1))
    assert "Báo cáo sơ kết 3 năm" in page
    assert "Đã học tập, quán triệt đầy đủ." in page
    assert "Đang dự thảo" in page
    listed = text_of(await ui.page(f"/bao-cao?unit={uid}&document={doc['id']}", H1))
    assert "Báo cáo sơ kết 3 năm" in listed


async def test_d23_d25_meeting_comment_version_submit_approve_issue_through_the_page(ui: Ui, mk: Maker) -> None:
    doc = await mk.doc("TU")
    url = await _start(ui, doc)
    bad_meeting = await ui.post(
        f"{url}/hoi-nghi",
        H1,
        {
            "meeting_kind": "workshop",
            "meeting_title": "Hội thảo lấy ý kiến",
            "held_on": "08/01/2024",
            "participants": "Nguyễn Văn A; thầy bói",
        },
    )
    assert bad_meeting.status_code == 422
    assert "thầy bói" in _error(bad_meeting.text, "h-e-participants")
    assert await _count(ui.api.db, REPORT_MEETING) == 0
    meeting = await ui.post(
        f"{url}/hoi-nghi",
        H1,
        {
            "meeting_kind": "workshop",
            "meeting_title": "Hội thảo lấy ý kiến",
            "held_on": "08/01/2024",
            "participants": "Nguyễn Văn A; Chuyên gia; Sở Nội vụ\nTrần Thị B; Lãnh đạo cấp ủy",
        },
    )
    assert meeting.status_code == 303, text_of(meeting.text)
    comment = await ui.post(
        f"{url}/gop-y", H1, {"section": "ket-qua", "text": "Cần nêu số liệu cụ thể.", "made_on": "09/01/2024"}
    )
    assert comment.status_code == 303, text_of(comment.text)
    page = text_of(await ui.page(url, H1))
    assert "Nguyễn Văn A (Chuyên gia, Sở Nội vụ)" in page
    assert "Cần nêu số liệu cụ thể." in page
    version = await ui.post(
        f"{url}/phien-ban",
        H1,
        {"written_on": "10/01/2024", "section-ket-qua": "Đã học tập: 98,5% đảng viên.", "note": "Tiếp thu góp ý"},
    )
    assert version.status_code == 303, text_of(version.text)
    early = await ui.post(f"{url}/trinh", H1, {"submitted_on": "09/01/2024"})
    assert early.status_code == 422  # before the version it submits was written (D24)
    assert "Ngày trình cấp ủy trước ngày của phiên bản được trình" in text_of(early.text)
    for step, data in (
        ("trinh", {"submitted_on": "11/01/2024"}),
        ("thong-qua", {"approved_on": "12/01/2024"}),
    ):
        done = await ui.post(f"{url}/{step}", H1, data)
        assert done.status_code == 303, (step, text_of(done.text))
    page = text_of(await ui.page(url, H1))
    assert "Hạn trình ban hành 22/01/2024" in page  # D25: approval + 10 days
    issued = await ui.post(f"{url}/ban-hanh", H1, {"issued_on": "15/01/2024", "report_number": "12-BC/ĐU"})
    assert issued.status_code == 303, text_of(issued.text)
    page = text_of(await ui.page(url, H1))
    assert "Số 12-BC/ĐU, ngày 15/01/2024 (phiên bản 2)" in page
    assert "Đã gửi lên" in page
    assert await _count(ui.api.db, REPORT_COMMENT) == 1


async def test_d25b_the_district_returns_a_report_with_a_reason_and_the_base_sees_it(ui: Ui, mk: Maker) -> None:
    doc = await mk.doc("TU")
    url = await _start(ui, doc)
    for step, data in (
        ("trinh", {"submitted_on": "11/01/2024"}),
        ("thong-qua", {"approved_on": "12/01/2024"}),
        ("ban-hanh", {"issued_on": "15/01/2024", "report_number": "3-BC/ĐU"}),
    ):
        assert (await ui.post(f"{url}/{step}", H1, data)).status_code == 303
    at_district = text_of(await ui.page(f"/bao-cao?document={doc['id']}&kind=preliminary", H1))
    assert "Đơn vị H1B1" in at_district
    assert "Đã gửi lên" in at_district
    decision = {
        "document": doc["id"],
        "kind": "preliminary",
        "subject_unit": str(ui.api.id("H1B1")),
        "action": "return",
        "decided_on": "18/01/2024",
        "correct_by": "25/01/2024",
    }
    refused = await ui.post("/bao-cao/quyet-dinh", H1, decision)
    assert refused.status_code == 422
    assert _error(refused.text, "d-e-reason").startswith("Trả lại hoặc miễn báo cáo phải ghi rõ lý do")
    assert await _count(ui.api.db, REPORT_DECISION) == 0
    returned = await ui.post("/bao-cao/quyet-dinh", H1, {**decision, "reason": "Thiếu số liệu khảo sát"})
    assert returned.status_code == 303, text_of(returned.text)
    base_view = text_of(await ui.page(url, H1))
    assert "Bị trả lại để sửa" in base_view
    assert "Thiếu số liệu khảo sát" in base_view
    assert "hạn nộp lại 25/01/2024" in base_view.lower()
    # Re-sending the returned version is refused until a corrected one is added (D25b).
    again = await ui.post(f"{url}/ban-hanh", H1, {"issued_on": "20/01/2024", "report_number": "4-BC/ĐU"})
    assert again.status_code == 422
    assert "phiên bản đã sửa" in text_of(again.text)


async def test_a_viewer_sees_the_reports_but_no_forms(ui: Ui, mk: Maker) -> None:
    doc = await mk.doc("TU")
    await _start(ui, doc)
    page = await ui.page(f"/bao-cao?document={doc['id']}", ("H1", "viewer"))
    assert "Đơn vị H1B1" in text_of(page)
    assert "/bao-cao/quyet-dinh" not in page
    refused = await ui.post(f"/bao-cao/moi?unit={ui.api.id('H1B2')}", ("H1", "viewer"), {"document": doc["id"]})
    assert refused.status_code == 403


async def test_d24_a_unit_with_its_own_node_is_not_offered_the_draft_form_at_its_parent(ui: Ui, mk: Maker) -> None:
    doc = await mk.doc("TU")
    offered = text_of(await ui.page(f"/bao-cao?document={doc['id']}", H1))
    assert "Bắt đầu dự thảo báo cáo" in offered
    issued = await ui.post("/nut-cap-duoi/ma", ("TU", "admin"), {"unit": "H1", "hours": "48"})
    code = re.search(r'id="issued-code" type="text" readonly value="([^"]+)"', issued.text)
    assert code
    await Parent(ui.api.db, build_registry(), SyncSettings()).enrol(
        EnrolRequest(protocol=PROTOCOL, code=code.group(1), label="máy huyện ủy")
    )
    page = text_of(await ui.page(f"/bao-cao?document={doc['id']}", H1))
    assert "Bắt đầu dự thảo báo cáo" not in page, "single writer: H1's drafts are written on H1's node"
    assert "có máy (nút) riêng: dự thảo được soạn trên máy đó" in page
