"""Correcting a moved review from the document's calendar page (D17): the form starts from the override held, the
new date applies, an edit on an older version is refused and changes nothing, and a level below cannot edit it."""

from __future__ import annotations

import re

from tests.domain_harness import Maker
from tests.ui.conftest import Ui, text_of


async def test_d17_an_override_is_corrected_from_the_calendar_page(ui: Ui, mk: Maker) -> None:
    doc = await mk.doc("TU", signed_on="2021-03-01")
    held = await mk.override("TU", doc, "final")
    url = f"/lich-so-ket/van-ban/{doc['id']}"
    page = await ui.page(f"{url}?edit={held['id']}")
    assert f"/lich-so-ket/dieu-chinh/{held['id']}/sua" in page
    assert f'value="{held["instructing_document"]}"' in page, "the form starts from the override held"
    action = f"/lich-so-ket/dieu-chinh/{held['id']}/sua"
    fields = {"due": "15/07/2025", "reason": "Theo Kết luận mới của Tỉnh ủy", "instructing_document": "Số: 14 - CV/TU"}
    done = await ui.post(action, data={**fields, "rev": "1"})
    assert done.status_code == 303, text_of(done.text)
    shown = text_of(await ui.page(url))
    assert "15/07/2025" in shown
    assert "Theo Kết luận mới của Tỉnh ủy" in shown
    assert "14-CV/TU" in shown, "D5a: the instructing document's number as normalised"
    stale = await ui.post(action, data={**fields, "due": "01/08/2025", "rev": "1"})
    assert stale.status_code == 422
    assert "hãy tải lại" in text_of(stale.text)
    got = await ui.api.ok("GET", f"/api/v1/review-overrides/{held['id']}")
    assert (got["due"], got["rev"]) == ("2025-07-15", 2), "the stale edit wrote nothing"
    assert not re.search(r"dieu-chinh/[0-9a-f-]{36}/sua", await ui.page(url, ("H1", "admin"))), "no edit below"
    below = await ui.post(action, ("H1", "admin"), {**fields, "rev": "2"})
    assert below.status_code == 422, "refused in words on the page (the district is below the issuing level)"
    assert (await ui.api.ok("GET", f"/api/v1/review-overrides/{held['id']}"))["rev"] == 2
