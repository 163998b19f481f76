"""A report draft's page offers only the steps its state allows (D24, D25, D25b): submit while drafting, approve once
submitted, issue once approved with the 10-day deadline, nothing once sent up until the level above returns it,
and the level above's decisions on the draft itself."""

from __future__ import annotations

from tests.domain_harness import Maker
from tests.ui.conftest import Ui, text_of
from tests.ui.test_drafts import H1, _start


def _forms(html: str, url: str) -> set[str]:
    """Which step forms the page offers."""
    return {step for step in ("phien-ban", "trinh", "thong-qua", "ban-hanh") if f'action="{url}/{step}"' in html}


async def test_d24_d25_the_draft_page_offers_only_the_next_steps_and_none_once_issued(ui: Ui, mk: Maker) -> None:
    doc = await mk.doc("TU")
    url = await _start(ui, doc)
    assert _forms(await ui.page(url, H1), url) == {"phien-ban", "trinh"}, "drafting: no approval before submission"
    assert (await ui.post(f"{url}/trinh", H1, {"submitted_on": "11/01/2024"})).status_code == 303
    submitted = await ui.page(url, H1)
    assert _forms(submitted, url) == {"phien-ban", "thong-qua"}, "the version submitted is not submitted again"
    editor = text_of(await ui.page(url, ("H1", "editor")))
    assert "chờ cấp ủy thông qua" in editor, "an editor is told who records the approval"
    assert (await ui.post(f"{url}/thong-qua", H1, {"approved_on": "12/01/2024"})).status_code == 303
    approved = await ui.page(url, H1)
    assert _forms(approved, url) == {"ban-hanh"}
    shown = text_of(approved)
    # D25: issue within 10 days of approval; the approval is long past, so the page says how late it is.
    assert "Hạn trình ban hành: 22/01/2024 — 10 ngày sau khi cấp ủy thông qua ngày 12/01/2024 (D25)" in shown
    assert "đã quá hạn" in shown
    issued = await ui.post(f"{url}/ban-hanh", H1, {"issued_on": "15/01/2024", "report_number": "12-BC/ĐU"})
    assert issued.status_code == 303, text_of(issued.text)
    page = await ui.page(url, H1)
    assert _forms(page, url) == set(), "an issued draft offers no submit, approve, issue or new version"
    assert f'action="{url}/hoi-nghi"' not in page, "D23: workshops come before the report is sent up"
    assert "Đã ban hành số 12-BC/ĐU ngày 15/01/2024 (phiên bản 1); đang chờ cấp trên tiếp nhận" in text_of(page)
    refused = await ui.post(f"{url}/trinh", H1, {"submitted_on": "16/01/2024"})
    assert refused.status_code == 422, "the service refuses it too (D25b)"
    assert "đã gửi lên cấp trên" in text_of(refused.text)


async def test_d25b_the_level_above_decides_on_the_draft_page_and_a_return_reopens_it(ui: Ui, mk: Maker) -> None:
    doc = await mk.doc("TU")
    url = await _start(ui, doc)
    before = text_of(await ui.page(url, H1))
    assert "Quyết định của cấp trên về báo cáo này" in before
    assert "Miễn báo cáo" in before, "not sent up yet: the level directly above may only waive it"
    assert "Tiếp nhận" not in before
    for step, data in (
        ("trinh", {"submitted_on": "11/01/2024"}),
        ("thong-qua", {"approved_on": "12/01/2024"}),
        ("ban-hanh", {"issued_on": "15/01/2024", "report_number": "3-BC/ĐU"}),
    ):
        assert (await ui.post(f"{url}/{step}", H1, data)).status_code == 303
    sent = await ui.page(url, H1)
    assert 'name="subject_unit" value="' + str(ui.api.id("H1B1")) + '"' in sent
    assert "Trả lại để sửa" in text_of(sent)
    assert "Quyết định của cấp trên" not in text_of(await ui.page(url, ("H1", "editor"))), "a committee decision"
    assert f'action="{url}/quyet-dinh"' in sent, "decided on the draft's page, answered on it"
    decision = {
        "subject_unit": str(ui.api.id("H1B1")),
        "document": doc["id"],
        "kind": "preliminary",
        "action": "return",
        "decided_on": "18/01/2024",
        "correct_by": "25/01/2024",
    }
    refused = await ui.post(f"{url}/quyet-dinh", H1, decision)
    assert refused.status_code == 422
    shown = text_of(refused.text)
    assert "Quyết định của cấp trên về báo cáo này" in shown, "a refused decision stays on the draft's page"
    assert "Trả lại hoặc miễn báo cáo phải ghi rõ lý do (D25b)" in shown
    assert 'value="25/01/2024"' in refused.text, "what was typed is kept"
    returned = await ui.post(f"{url}/quyet-dinh", H1, {**decision, "reason": "Thiếu số liệu khảo sát"})
    assert returned.status_code == 303, text_of(returned.text)
    assert returned.headers["location"] == f"{url}?saved=return"
    page = await ui.page(url, H1)
    assert _forms(page, url) == {"phien-ban"}, "returned: correct it first; the returned version is not sent again"
    assert "Cấp trên đã trả lại phiên bản 1; hạn nộp lại 25/01/2024" in text_of(page)
    version = await ui.post(f"{url}/phien-ban", H1, {"written_on": "20/01/2024", "section-ket-qua": "Có số liệu."})
    assert version.status_code == 303, text_of(version.text)
    corrected = await ui.page(url, H1)
    assert _forms(corrected, url) == {"phien-ban", "ban-hanh"}
    assert "Ban hành bản đã sửa và gửi lại (phiên bản 2)" in text_of(corrected)
