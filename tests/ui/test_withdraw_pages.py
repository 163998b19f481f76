"""Withdrawing an action programme (D14, D18) and an essay template (D11) from their pages: a confirm step that says
what happens to the progress and grades that refer to them, a refusal in words for a level that did not write it,
and a stale version that changes nothing."""

from __future__ import annotations

from tests.ui.conftest import Ui, text_of
from tests.workflow_harness import FlowMaker

V = "/api/v1"


async def test_d14_d18_a_programme_is_withdrawn_from_its_page_with_its_progress(ui: Ui) -> None:
    mk = FlowMaker(ui.api)
    doc = await mk.doc()
    programme = await mk.programme("H1", doc)
    key = programme["targets"][0]["key"]
    body = {"programme": programme["id"], "target": key, "year": 2021, "value": "90", "reported_on": "2021-12-20"}
    await ui.api.ok("POST", f"{V}/programme-progress", json=body)
    url = f"/chuong-trinh/{programme['id']}"
    action = f"{url}/rut"
    page = text_of(await ui.page(url, ("H1", "editor")))
    assert "Rút chương trình nhập nhầm" in page
    assert "1 báo cáo kết quả thực hiện chỉ tiêu đã ghi được rút cùng" in page, "D18: says what happens to progress"
    assert "chưa xây dựng chương trình cho văn bản này" in page, "D14: the unit owes one again"
    unconfirmed = await ui.post(action, ("H1", "editor"), {"rev": "1"})
    assert unconfirmed.status_code == 422
    assert "đánh dấu ô xác nhận" in text_of(unconfirmed.text)
    stale = await ui.post(action, ("H1", "editor"), {"rev": "9", "confirm": "1"})
    assert stale.status_code == 422
    assert "hãy tải lại" in text_of(stale.text)
    assert (await ui.api.call("GET", f"{V}/action-programmes/{programme['id']}")).status_code == 200
    # The province's programme travels down to the district, which reads it but never withdraws it (single writer).
    above = await mk.programme("TU", doc)
    below = await ui.page(f"/chuong-trinh/{above['id']}", ("H1", "admin"))
    assert f"/chuong-trinh/{above['id']}/rut" not in below
    refused = await ui.post(f"/chuong-trinh/{above['id']}/rut", ("H1", "admin"), {"rev": "1", "confirm": "1"})
    assert refused.status_code == 422
    assert "ngoài phạm vi" in text_of(refused.text)
    assert (await ui.api.call("GET", f"{V}/action-programmes/{above['id']}")).status_code == 200
    done = await ui.post(action, ("H1", "editor"), {"rev": "1", "confirm": "1"})
    assert done.status_code == 303, text_of(done.text)
    listed = text_of(await ui.page(done.headers["location"], ("H1", "editor")))
    assert "Đã rút chương trình cùng các kết quả thực hiện đã ghi" in listed
    assert (await ui.api.call("GET", f"{V}/action-programmes/{programme['id']}")).status_code == 404
    assert await ui.api.ok("GET", f"{V}/programme-progress", params={"programme": programme["id"]}) == []


async def test_d11_a_template_is_withdrawn_from_its_page_and_the_grades_stay(ui: Ui) -> None:
    mk = FlowMaker(ui.api)
    doc = await mk.doc()
    template = await mk.template("H1", doc)
    member = await mk.member("H1")
    await mk.essay("H1", member, doc)
    path = "/bai-thu-hoach/mau"
    action = f"{path}/{template['id']}/rut"
    listed = await ui.page(path, ("H1", "editor"))
    assert f"edit={template['id']}#rut-h" in listed, "each own template offers its withdraw step"
    page = text_of(await ui.page(f"{path}?edit={template['id']}", ("H1", "editor")))
    assert "Rút mẫu «Câu hỏi thu hoạch»" in page
    assert "Các bài thu hoạch đã chấm vẫn giữ nguyên điểm và xếp loại" in page, "D13: grades hang on the document"
    unconfirmed = await ui.post(action, ("H1", "editor"), {"rev": "1"})
    assert unconfirmed.status_code == 422
    assert "đánh dấu ô xác nhận" in text_of(unconfirmed.text)
    # The province's template travels down; the district reads it but only the province withdraws it (D11).
    above = await mk.template("TU", doc)
    assert f"{path}/{above['id']}/rut" not in await ui.page(f"{path}?edit={above['id']}", ("H1", "editor"))
    refused = await ui.post(f"{path}/{above['id']}/rut", ("H1", "editor"), {"rev": "1", "confirm": "1"})
    assert refused.status_code == 422
    assert "ngoài phạm vi" in text_of(refused.text)
    assert "Sửa mẫu «" not in refused.text, "the refusal does not open another level's template for editing"
    done = await ui.post(action, ("H1", "editor"), {"rev": "1", "confirm": "1"})
    assert done.status_code == 303, text_of(done.text)
    shown = text_of(await ui.page(done.headers["location"], ("H1", "editor")))
    assert "Đã rút mẫu bài thu hoạch" in shown
    assert (await ui.api.call("GET", f"{V}/essay-templates/{template['id']}")).status_code == 404
    essays = await ui.api.ok("GET", f"{V}/essays", params={"document": doc["id"]})
    assert [e["member"] for e in essays] == [member["id"]]
