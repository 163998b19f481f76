"""Correcting an issued review plan from its page (D19, D20): the form starts from the plan held, the corrected date
and year apply with their lateness and reviews, a refused correction keeps what was typed, an edit on an older
version changes nothing, and a level below the issuing committee gets no form."""

from __future__ import annotations

import re

from tests.domain_harness import Maker
from tests.ui.conftest import Ui, text_of


def _error(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="error" id="{field_id}">([^<]*)</p>', html)
    assert match, f"no error shown for {field_id}"
    return match.group(1)


async def test_d19_d20_a_year_plan_is_corrected_from_its_page(ui: Ui, mk: Maker) -> None:
    doc = await mk.doc("TU", signed_on="2021-03-01")
    plan = await mk.plan("TU")
    url = f"/lich-so-ket/ke-hoach/{plan['id']}"
    action = f"{url}/sua"
    page = await ui.page(url)
    assert action in page
    assert f'value="{plan["number"]}"' in page, "the form starts from the plan held"
    assert 'value="20/12/2023"' in page
    assert "Loại kế hoạch (kế hoạch năm) và đơn vị ban hành không đổi được" in text_of(page)
    # Refused: no number, a year that is not one; what was typed stays.
    bad = await ui.post(action, data={"number": "", "issued_on": "01/12/2025", "year": "20x6", "rev": "1"})
    assert bad.status_code == 422
    assert "số, ký hiệu" in _error(bad.text, "r-e-number")
    assert "năm áp dụng" in _error(bad.text, "r-e-year")
    assert 'value="01/12/2025"' in bad.text
    wrong = await ui.post(action, data={"number": "KH 19", "issued_on": "01/12/2025", "year": "2026", "rev": "1"})
    assert wrong.status_code == 422
    assert _error(wrong.text, "r-e-number"), "D5a: a number not written as a document number, next to its field"
    # D19: corrected to the plan for 2026, issued in 2025: it lists the final review of 2026, on time.
    fields = {"number": "Số: 19 - KH/TU", "issued_on": "01/12/2025", "year": "2026", "rev": "1"}
    done = await ui.post(action, data=fields)
    assert done.status_code == 303, text_of(done.text)
    shown = text_of(await ui.page(done.headers["location"]))
    assert "Đã sửa kế hoạch 19-KH/TU" in shown
    assert "Kế hoạch năm số 19-KH/TU" in shown
    assert "01/01/2026 – 31/12/2026" in shown
    assert "Tổng kết 01/03/2026" in shown
    assert "Ban hành đúng hạn" in shown
    # D20: issued after the plan deadline of its review: flagged late on the page.
    late = await ui.post(action, data={"number": "19-KH/TU", "issued_on": "15/02/2026", "year": "2026", "rev": "2"})
    assert late.status_code == 303, text_of(late.text)
    assert "chậm nhất ngày 01/01/2026 (D20)" in text_of(await ui.page(url))
    stale = await ui.post(action, data={"number": "20-KH/TU", "issued_on": "01/12/2025", "year": "2026", "rev": "2"})
    assert stale.status_code == 422
    assert "hãy tải lại" in text_of(stale.text)
    got = await ui.api.ok("GET", f"/api/v1/review-plans/{plan['id']}")
    assert (got["number"], got["rev"]) == ("19-KH/TU", 3), "the stale edit wrote nothing"
    assert got["items"] == [{"document": doc["id"], "kind": "final", "due": "2026-03-01"}]
    # The district holds the plan (it travelled down) but only the issuing committee's admin corrects it.
    below = await ui.page(url, ("H1", "admin"))
    assert "Kế hoạch năm số 19-KH/TU" in text_of(below)
    assert action not in below
    assert action not in await ui.page(url, ("TU", "editor")), "a committee decision: admin only"
    refused = await ui.post(action, ("H1", "admin"), {"number": "21-KH/TU", "issued_on": "01/12/2025", "year": "2026"})
    assert refused.status_code == 422
    assert "ngoài phạm vi" in text_of(refused.text)
    assert (await ui.api.ok("GET", f"/api/v1/review-plans/{plan['id']}"))["rev"] == 3


async def test_d19_an_added_plan_corrects_its_reviews_from_its_page(ui: Ui, mk: Maker) -> None:
    doc = await mk.doc("TU", signed_on="2021-03-01")
    made = await ui.post(
        "/lich-so-ket/ke-hoach",
        data={
            "plan_kind": "addition",
            "number": "20-KH/TU",
            "issued_on": "01/05/2024",
            "a0_document": doc["id"],
            "a0_kind": "final",
        },
    )
    assert made.status_code == 303, text_of(made.text)
    url = made.headers["location"].split("?")[0]
    page = await ui.page(url)
    assert re.search(rf'<option value="{doc["id"]}" selected', page), "the added review is chosen in the form"
    emptied = await ui.post(f"{url}/sua", data={"number": "20-KH/TU", "issued_on": "01/05/2024", "a0_document": ""})
    assert emptied.status_code == 422
    assert "ít nhất một mốc" in _error(emptied.text, "r-e-a0_document")
    fixed = await ui.post(
        f"{url}/sua",
        data={"number": "20-KH/TU", "issued_on": "01/05/2024", "a0_document": doc["id"], "a0_kind": "preliminary"},
    )
    assert fixed.status_code == 303, text_of(fixed.text)
    shown = text_of(await ui.page(url))
    assert "Sơ kết 01/03/2024" in shown, "the due date is the calendar's"
    assert "01/03/2026" not in shown
