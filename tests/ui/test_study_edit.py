"""Correcting and deleting a study session or propaganda activity through its page (D8, D9): the form opens with
the stored values, a refused correction keeps what was typed, an edit made on an older version is refused."""

from __future__ import annotations

import re

from shared.core.scope import records
from shared.study.records import PROPAGANDA, STUDY_SESSION
from tests.domain_harness import Maker
from tests.ui.conftest import Ui, text_of

H1 = ("H1", "editor")


async def test_d8_a_session_is_corrected_and_deleted_through_its_page(ui: Ui, mk: Maker) -> None:
    doc = await mk.doc("TU")
    held = await mk.session("H1", doc)
    url = f"/hoc-tap/buoi-hoc/{held['id']}"
    page = await ui.page(url, H1)
    assert f'value="{held["title"]}"' in page
    assert re.search(r'name="held_on" type="text"[^>]*value="\d\d/\d\d/\d{4}"', page)
    base = {"title": "Hội nghị quán triệt (đã sửa)", "documents": doc["id"], "held_on": "02/06/2021", "form": "mixed"}
    refused = await ui.post(url, H1, {**base, "invited": "40", "attended": "45", "rev": str(held["rev"])})
    assert refused.status_code == 422
    assert "Số tham dự (45) phải từ 0 đến số được triệu tập (40)" in text_of(refused.text)
    assert 'value="Hội nghị quán triệt (đã sửa)"' in refused.text  # what was typed is kept
    saved = await ui.post(url, H1, {**base, "invited": "40", "attended": "38", "rev": str(held["rev"])})
    assert saved.status_code == 303, text_of(saved.text)
    async with ui.api.db.read() as conn:
        stored = await records(conn, STUDY_SESSION, STUDY_SESSION.table.select())
    (rec,) = [r for r in stored if str(r.id) == held["id"]]
    assert (rec.title, rec.attended, rec.form, rec.rev) == ("Hội nghị quán triệt (đã sửa)", 38, "mixed", 2)
    stale = await ui.post(url, H1, {**base, "invited": "40", "attended": "30", "rev": "1"})
    assert stale.status_code == 422
    assert "Bản ghi đã được sửa" in text_of(stale.text)
    deleted = await ui.post(f"{url}/xoa", H1, {"rev": "2"})
    assert deleted.status_code == 303
    listed = text_of(await ui.page("/hoc-tap", H1))
    assert "Hội nghị quán triệt (đã sửa)" not in listed
    assert "Đã xoá bản ghi nhập nhầm" in text_of(await ui.page(deleted.headers["location"], H1))


async def test_d9_propaganda_is_corrected_and_another_units_record_stays_out_of_reach(ui: Ui, mk: Maker) -> None:
    item = await mk.propaganda("H1")
    url = f"/hoc-tap/tuyen-truyen/{item['id']}"
    form = {
        "channel": "oral",
        "period_start": "01/01/2021",
        "period_end": "31/03/2021",
        "count": "7",
        "reached": "1.250",
        "rev": str(item["rev"]),
    }
    saved = await ui.post(url, H1, form)
    assert saved.status_code == 303, text_of(saved.text)
    async with ui.api.db.read() as conn:
        (rec,) = [r for r in await records(conn, PROPAGANDA, PROPAGANDA.table.select()) if str(r.id) == item["id"]]
    assert (rec.count, rec.reached) == (7, 1250)
    assert (await ui.get(url, ("H2", "editor"))).status_code == 404  # a sibling district never sees it (D4)
    assert (await ui.post(f"{url}/xoa", ("H2", "editor"), {"rev": "2"})).status_code == 404
