"""Correcting and withdrawing a document from its page (D5-D7, single writer): the number is kept in its canonical
form, an edit on an older version is refused and changes nothing, a level below cannot change the province's
document, and a withdrawal needs a confirmation."""

from __future__ import annotations

from tests.domain_harness import Maker
from tests.ui.conftest import Ui, text_of

V = "/api/v1/documents"


def _fields(**changed: str) -> dict[str, str]:
    base = {
        "number": "15-NQ/TU",
        "title": "Về phát triển kinh tế số",
        "signed_on": "01/03/2021",
        "lead_agency": "Ban Tuyên giáo Tỉnh ủy",
        "issuer": "",
        "term": "",
        "earlier": "",
        "link": "",
        "rev": "1",
    }
    return {**base, **changed}


async def test_d5a_a_corrected_document_keeps_its_number_canonical_and_its_next_rev(ui: Ui, mk: Maker) -> None:
    doc = await mk.doc("TU", number="15-NQ/TU", title="Về phát triên kinh tế số", signed_on="2021-03-01")
    form = await ui.page(f"/van-ban/{doc['id']}/sua")
    assert 'value="Về phát triên kinh tế số"' in form, "the form starts from what is held"
    assert 'value="01/03/2021"' in form
    done = await ui.post(f"/van-ban/{doc['id']}/sua", data=_fields(number="Số: 16 - NQ/TU"))
    assert done.status_code == 303, text_of(done.text)
    assert "Đã ghi bản sửa" in text_of(await ui.page(done.headers["location"]))
    held = await ui.api.ok("GET", f"{V}/{doc['id']}")
    assert (held["number"], held["title"], held["rev"]) == ("16-NQ/TU", "Về phát triển kinh tế số", 2)


async def test_a_stale_or_bad_edit_is_refused_next_to_its_field_and_changes_nothing(ui: Ui, mk: Maker) -> None:
    doc = await mk.doc("TU", number="15-NQ/TU", signed_on="2021-03-01")
    url = f"/van-ban/{doc['id']}/sua"
    bad = await ui.post(url, data=_fields(number="15/TU"))
    assert bad.status_code == 422
    assert 'id="d-e-number"' in bad.text, "the number's problem (D5a) next to its box"
    assert 'value="15/TU"' in bad.text, "what was typed stays"
    bad_day = await ui.post(url, data=_fields(signed_on="31/02/2021"))
    assert bad_day.status_code == 422
    assert 'id="d-e-signed_on"' in bad_day.text
    assert (await ui.post(url, data=_fields(title="Lần sửa thứ nhất"))).status_code == 303
    stale = await ui.post(url, data=_fields(title="Sửa trên bản cũ"))
    assert stale.status_code == 422
    assert "hãy tải lại" in text_of(stale.text)
    held = await ui.api.ok("GET", f"{V}/{doc['id']}")
    assert (held["title"], held["rev"]) == ("Lần sửa thứ nhất", 2)


async def test_single_writer_a_district_cannot_change_the_provinces_document(ui: Ui, mk: Maker) -> None:
    doc = await mk.doc("TU", number="15-NQ/TU", signed_on="2021-03-01")
    page = text_of(await ui.page(f"/van-ban/{doc['id']}/sua", ("H1", "admin")))
    assert "chỉ sửa được tại máy của đơn vị đó" in page
    refused = await ui.post(f"/van-ban/{doc['id']}/sua", ("H1", "admin"), _fields(title="Huyện sửa"))
    assert refused.status_code == 422
    assert (await ui.api.ok("GET", f"{V}/{doc['id']}"))["rev"] == 1


async def test_a_document_is_withdrawn_only_when_confirmed(ui: Ui, mk: Maker) -> None:
    doc = await mk.doc("TU", number="15-NQ/TU", signed_on="2021-03-01")
    url = f"/van-ban/{doc['id']}/rut"
    unconfirmed = await ui.post(url, data={"rev": "1"})
    assert unconfirmed.status_code == 422
    assert "Hãy đánh dấu ô xác nhận" in text_of(unconfirmed.text)
    assert (await ui.api.call("GET", f"{V}/{doc['id']}")).status_code == 200
    done = await ui.post(url, data={"rev": "1", "confirm": "1"})
    assert done.status_code == 303
    assert "Đã rút văn bản" in text_of(await ui.page(done.headers["location"]))
    assert (await ui.api.call("GET", f"{V}/{doc['id']}")).status_code == 404
