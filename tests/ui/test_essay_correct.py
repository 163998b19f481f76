"""Correcting a graded essay from its page (D13): the band follows the corrected score, an edit made on an older
version is refused and changes nothing, a bad score is shown next to its box with what was typed, the latest
attempt entered by mistake can be withdrawn, and a sibling unit's grade is never shown (D4)."""

from __future__ import annotations

from tests.domain_harness import Maker
from tests.ui.conftest import Ui, text_of

WHO = ("H1", "editor")


async def _graded(ui: Ui, mk: Maker, score: str = "4,5") -> tuple[dict, dict, dict]:  # type: ignore[type-arg]
    doc = await mk.doc("TU")
    member = await mk.member("H1B1", full_name="Nguyễn Văn An", birth_year=1980)
    essay = await ui.api.ok(
        "POST",
        "/api/v1/essays",
        who=WHO,
        json={
            "member": member["id"],
            "document": doc["id"],
            "score": score,
            "graded_on": "2021-05-05",
            "unit": str(ui.api.id("H1")),
        },
    )
    return doc, member, essay


async def test_d13_a_corrected_score_changes_the_band_and_closes_the_rewrite(ui: Ui, mk: Maker) -> None:
    doc, member, essay = await _graded(ui, mk)
    url = f"/bai-thu-hoach/{essay['id']}/sua"
    page = text_of(await ui.page(url, WHO))
    assert "Sửa điểm bài thu hoạch — Nguyễn Văn An" in page
    assert "4,5 (Yếu)" in page
    done = await ui.post(url, WHO, {"score": "5,5", "graded_on": "06/05/2021", "rev": "1"})
    assert done.status_code == 303, text_of(done.text)
    assert "Đã ghi điểm đã sửa" in text_of(await ui.page(done.headers["location"], WHO))
    held = await ui.api.ok("GET", f"/api/v1/essays/{essay['id']}", who=WHO)
    assert (held["score_vi"], held["band"], held["graded_on"], held["rev"]) == ("5,5", "Trung bình", "2021-05-06", 2)
    rewrites = await ui.api.ok("GET", "/api/v1/essays/rewrites", who=WHO, params={"document": doc["id"]})
    assert member["id"] not in {r["member"] for r in rewrites}, "D13: no rewrite is owed after the correction"


async def test_a_stale_or_bad_correction_is_refused_in_words_and_changes_nothing(ui: Ui, mk: Maker) -> None:
    _, _, essay = await _graded(ui, mk)
    url = f"/bai-thu-hoach/{essay['id']}/sua"
    bad = await ui.post(url, WHO, {"score": "10,5", "graded_on": "31/02/2021", "rev": "1"})
    assert bad.status_code == 422
    assert 'value="10,5"' in bad.text, "what was typed stays in the box"
    assert 'id="s-e-score"' in bad.text, "the problem is shown next to its field"
    assert 'id="s-e-graded_on"' in bad.text, "and every problem at once"
    assert (await ui.post(url, WHO, {"score": "7", "graded_on": "05/05/2021", "rev": "1"})).status_code == 303
    stale = await ui.post(url, WHO, {"score": "9", "graded_on": "05/05/2021", "rev": "1"})
    assert stale.status_code == 422
    assert "hãy tải lại" in text_of(stale.text)
    held = await ui.api.ok("GET", f"/api/v1/essays/{essay['id']}", who=WHO)
    assert (held["score_vi"], held["rev"]) == ("7", 2), "the refused edits wrote nothing"


async def test_the_latest_attempt_entered_by_mistake_is_withdrawn_only_when_confirmed(ui: Ui, mk: Maker) -> None:
    doc, _, essay = await _graded(ui, mk)
    url = f"/bai-thu-hoach/{essay['id']}/xoa"
    unconfirmed = await ui.post(url, WHO, {"rev": "1"})
    assert unconfirmed.status_code == 422
    assert "Hãy đánh dấu ô xác nhận" in text_of(unconfirmed.text)
    assert (await ui.api.call("GET", f"/api/v1/essays/{essay['id']}", who=WHO)).status_code == 200
    done = await ui.post(url, WHO, {"rev": "1", "confirm": "1"})
    assert done.status_code == 303
    assert (await ui.api.call("GET", f"/api/v1/essays/{essay['id']}", who=WHO)).status_code == 404
    listed = await ui.api.ok("GET", "/api/v1/essays", who=WHO, params={"document": doc["id"]})
    assert listed == []


async def test_d4_a_sibling_district_cannot_open_or_correct_the_grade(ui: Ui, mk: Maker) -> None:
    _, _, essay = await _graded(ui, mk)
    url = f"/bai-thu-hoach/{essay['id']}/sua"
    assert (await ui.get(url, ("H2", "editor"))).status_code == 404
    refused = await ui.post(url, ("H2", "editor"), {"score": "9", "graded_on": "05/05/2021", "rev": "1"})
    assert refused.status_code == 404
    held = await ui.api.ok("GET", f"/api/v1/essays/{essay['id']}", who=WHO)
    assert held["score_vi"] == "4,5"
