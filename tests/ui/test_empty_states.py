"""A new office's first day (issue 12, «empty states that say what to do first»): every list page of a unit with
nothing recorded yet says what is missing and where to start, and a refused page names the role it needs."""

from __future__ import annotations

from tests.ui.conftest import Ui, text_of

# List page → what an editor of a unit with no documents and no records is told to do first.
FIRST_STEPS = {
    "/van-ban": "bấm «Đăng ký văn bản» để nhập",
    "/lich-so-ket": "Hãy nhập văn bản ở mục Văn bản",
    "/lich-so-ket/ke-hoach": "Kế hoạch do cấp ủy ban hành",
    "/lich-so-ket/de-an": "Đề xuất đề án ở mẫu bên dưới",
    "/lich-so-ket/da-to-chuc": "hãy ghi nhận ở mẫu bên dưới",
    "/bai-thu-hoach": "hãy nhập văn bản ở mục Văn bản",
    "/bai-thu-hoach/mau": "Hãy soạn mẫu ở bên dưới",
    "/bai-thu-hoach/cham-theo-danh-sach": "hãy đăng ký văn bản trước",
    "/dang-vien": "Hãy thêm từng người ở mẫu bên dưới, hoặc nhập cả danh sách từ Excel",
    "/hoc-tap": "ở mẫu «Ghi buổi học tập, quán triệt» cuối trang",
    "/chuong-trinh": "xây dựng chương trình ở mẫu bên dưới",
    "/khao-sat": "lập phiếu ở mẫu bên dưới",
    "/bao-cao": "Hãy nhập văn bản ở mục Văn bản",
    "/tong-hop": "hãy nhập văn bản ở mục Văn bản",
}


async def test_every_empty_list_says_what_to_do_first(ui: Ui) -> None:
    missing = {}
    for path, step in FIRST_STEPS.items():
        text = text_of(await ui.page(path, ("H1", "editor")))
        if step not in text:
            missing[path] = step
    assert not missing, f"empty lists that do not say what to do first: {missing}"


async def test_an_empty_list_tells_a_viewer_who_records_it_not_to_use_a_form_they_lack(ui: Ui) -> None:
    documents = text_of(await ui.page("/van-ban", ("H1", "viewer")))
    assert "Văn bản của cấp trên đến máy này khi đồng bộ." in documents
    assert "Đăng ký văn bản" not in documents
    assert "cuối trang" not in text_of(await ui.page("/hoc-tap", ("H1", "viewer")))


async def test_an_editor_on_an_admin_page_is_told_the_role_it_needs(ui: Ui) -> None:
    refused = await ui.get("/tai-khoan", ("H1", "editor"))
    assert refused.status_code == 403
    text = text_of(refused.text)
    assert "Việc này cần quyền «Quản trị»" in text
    assert "chỉ được xem" not in text, "an editor is not a viewer"
    written = await ui.post("/van-ban/moi", ("H1", "viewer"), {"number": "1-NQ/HU"})
    assert written.status_code == 403
    assert "Việc này cần quyền «Cập nhật»" in text_of(written.text)
