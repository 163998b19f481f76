"""Signing in and out, forms that write (and refuse in Vietnamese, next to the field, changing nothing), CSRF, and
the .xlsx imports with their row-by-row report."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from shared.accounts.service import SESSION_COOKIE
from shared.core.scope import records
from shared.db.engine import Database
from shared.documents.records import DOCUMENT
from shared.essays.records import ESSAY_GRADE
from shared.members.records import MEMBER
from shared.study.records import PROPAGANDA, STUDY_SESSION
from shared.sync.tables import FeedCounter
from shared.ui.web import CSRF_COOKIE
from tests.domain_harness import PASSWORD, Maker, xlsx
from tests.ui.conftest import Ui, text_of

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _head(db: Database) -> int:
    """The feed head: any write anywhere moves it, so an unchanged head means nothing was written."""
    async with db.read() as conn:
        return int((await conn.execute(select(FeedCounter.last))).scalar_one())


async def _count(db: Database, table: Any) -> int:
    async with db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


def _error_after(html: str, field_id: str) -> str:
    """The error message shown under a field (its `aria-describedby` target)."""
    match = re.search(rf'<p class="error" id="{field_id}">([^<]*)</p>', html)
    assert match, f"no error shown for {field_id}"
    return match.group(1)


async def test_sign_in_reaches_the_page_asked_for_and_sign_out_ends_the_session(ui: Ui) -> None:
    from shared.accounts.service import create_user
    from tests.domain_harness import password_hash

    async with ui.api.db.write() as conn:
        await create_user(conn, username="vanphong", unit=ui.api.id("H1"), role="editor", password_hash=password_hash())
    client = ui.api.client
    client.cookies.clear()
    asked = await client.get("/van-ban?number=15-NQ%2FTU", follow_redirects=False)
    assert asked.status_code == 303
    assert asked.headers["location"] == "/dang-nhap?next=%2Fvan-ban%3Fnumber%3D15-NQ%252FTU"
    form = await client.get(asked.headers["location"], follow_redirects=False)
    assert form.status_code == 200
    assert "Tên đăng nhập" in form.text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    assert token
    assert client.cookies.get(CSRF_COOKIE) == token.group(1)
    wrong = await client.post(
        "/dang-nhap",
        data={"_csrf_token": token.group(1), "username": "vanphong", "password": "sai-mat-khau-roi"},
        follow_redirects=False,
    )
    assert wrong.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu" in wrong.text
    assert 'value="vanphong"' in wrong.text  # the name is kept, the password is not
    ok = await client.post(
        "/dang-nhap",
        data={
            "_csrf_token": token.group(1),
            "username": "vanphong",
            "password": PASSWORD,
            "next": "/van-ban?number=15-NQ%2FTU",
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert ok.headers["location"] == "/van-ban?number=15-NQ%2FTU"
    cookie = ok.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    home = text_of((await client.get("/", follow_redirects=False)).text)
    assert "Người dùng: vanphong" in home
    assert "Đơn vị: Đơn vị H1 (H1)" in home
    assert "Vai trò: Cập nhật" in home
    # The same session works for the API (one login for both).
    assert (await client.get("/api/v1/auth/me", follow_redirects=False)).json()["username"] == "vanphong"
    out = await client.post("/dang-xuat", data={"_csrf_token": token.group(1)}, follow_redirects=False)
    assert out.status_code == 303
    assert out.headers["location"] == "/dang-nhap"
    assert (await client.get("/", follow_redirects=False)).status_code == 303
    assert (await client.get("/api/v1/auth/me", follow_redirects=False)).status_code == 401
    # An address elsewhere is never followed after signing in.
    again = await client.post(
        "/dang-nhap",
        data={"_csrf_token": token.group(1), "username": "vanphong", "password": PASSWORD, "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert again.headers["location"] == "/"
    client.cookies.clear()


async def test_csrf_a_post_without_the_token_or_with_a_forged_one_is_refused_and_changes_nothing(
    ui: Ui, mk: Maker
) -> None:
    doc = await mk.doc("TU")
    head = await _head(ui.api.db)
    body = {"channel": "it", "period_start": "01/04/2021", "period_end": "30/04/2021", "count": "3", "reached": "90"}
    for token in (None, "forged" * 20):
        response = await ui.post("/hoc-tap/tuyen-truyen", ("TU", "admin"), body, token=token)
        assert response.status_code == 403
        assert "Biểu mẫu đã hết hiệu lực" in text_of(response.text)
    # A token of another instance (another secret) is no better.
    from litestar.middleware.csrf import generate_csrf_token

    other = generate_csrf_token("another instance's secret")
    response = await ui.api.client.post(
        "/hoc-tap/tuyen-truyen",
        headers=ui.cookies(("TU", "admin"), csrf=other),
        data={**body, "_csrf_token": other},
        follow_redirects=False,
    )
    assert response.status_code == 403
    upload = await ui.post(
        f"/bai-thu-hoach/nhap?document={doc['id']}",
        ("TU", "admin"),
        files={"file": ("diem.xlsx", xlsx([["Họ và tên", "Năm sinh", "Điểm"]]), XLSX)},
        token=None,
    )
    assert upload.status_code == 403
    assert await _head(ui.api.db) == head


async def test_a_viewer_cannot_post_any_form(ui: Ui, mk: Maker) -> None:
    doc = await mk.doc("TU")
    member = await mk.member("H1B1")
    head = await _head(ui.api.db)
    posts: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = [
        ("/van-ban/moi", {"number": "3-NQ/TU", "title": "X", "signed_on": "01/01/2022", "lead_agency": "Ban"}, None),
        (
            f"/bai-thu-hoach/cham?document={doc['id']}&unit={ui.api.id('H1B1')}",
            {"member": member["id"], "score": "8", "graded_on": "01/05/2021"},
            None,
        ),
        (f"/bai-thu-hoach/nhap?document={doc['id']}", {}, {"file": ("d.xlsx", b"x", XLSX)}),
        ("/dang-vien/nhap", {}, {"file": ("d.xlsx", b"x", XLSX)}),
        ("/hoc-tap/buoi-hoc", {"title": "Học", "documents": doc["id"], "held_on": "01/05/2021"}, None),
        ("/hoc-tap/tuyen-truyen", {"channel": "it"}, None),
    ]
    for url, data, files in posts:
        response = await ui.post(url, ("TU", "viewer"), data, files)
        assert response.status_code == 403, url
        assert "Không có quyền" in text_of(response.text)
    assert (await ui.get("/van-ban/moi", ("TU", "viewer"))).status_code == 403
    assert await _head(ui.api.db) == head


async def test_register_a_document_with_bad_input_shows_each_error_next_to_its_field(ui: Ui, mk: Maker) -> None:
    await mk.doc("TU", number="15-NQ/TU")
    head = await _head(ui.api.db)
    bad = await ui.post(
        "/van-ban/moi",
        ("TU", "editor"),
        {"number": "15-NQ/TU", "title": "", "signed_on": "31/02/2024", "lead_agency": "Ban Tuyên giáo"},
    )
    assert bad.status_code == 422
    assert _error_after(bad.text, "d-e-title") == "Nhập trích yếu (tên) văn bản."
    assert _error_after(bad.text, "d-e-signed_on") == "Không có ngày 31/02/2024 trong lịch."
    assert 'value="15-NQ/TU"' in bad.text  # what was typed is kept
    # The API's own rules (D5a: one number per committee and term) come back next to the field too.
    clash = await ui.post(
        "/van-ban/moi",
        ("TU", "editor"),
        {"number": "Số: 15 - NQ/TU", "title": "Trùng số", "signed_on": "05/03/2024", "lead_agency": "Ban"},
    )
    assert clash.status_code == 422
    assert "Đã có văn bản số 15-NQ/TU" in _error_after(clash.text, "d-e-number")
    malformed = await ui.post(
        "/van-ban/moi",
        ("TU", "editor"),
        {"number": "mười lăm", "title": "X", "signed_on": "05/03/2024", "lead_agency": "Ban"},
    )
    assert malformed.status_code == 422
    assert _error_after(malformed.text, "d-e-number")
    assert await _head(ui.api.db) == head
    good = await ui.post(
        "/van-ban/moi",
        ("TU", "editor"),
        {"number": "16-nq/tu", "title": "Về chuyển đổi số", "signed_on": "05/03/2024", "lead_agency": "Ban"},
    )
    assert good.status_code == 303
    page = text_of(await ui.page(good.headers["location"]))
    assert "Đã đăng ký văn bản 16-NQ/TU" in page
    assert "Ngày ký 05/03/2024" in page
    assert "Sơ kết 05/03/2027" in page


async def test_study_and_propaganda_forms_write_or_explain(ui: Ui, mk: Maker) -> None:
    doc = await mk.doc("TU")
    h1 = ui.api.id("H1")
    head = await _head(ui.api.db)
    session = {
        "title": "Hội nghị quán triệt",
        "documents": doc["id"],
        "held_on": "10/04/2021",
        "form": "online",
        "invited": "50",
        "attended": "60",
    }
    bad = await ui.post(f"/hoc-tap/buoi-hoc?unit={h1}", ("H1", "editor"), session)
    assert bad.status_code == 422
    assert _error_after(bad.text, "s-e-attended") == "Số tham dự (60) phải từ 0 đến số được triệu tập (50)."
    counts = await ui.post(f"/hoc-tap/tuyen-truyen?unit={h1}", ("H1", "editor"), {"channel": "x", "count": "-1"})
    assert counts.status_code == 422
    assert _error_after(counts.text, "p-e-channel") == "Chọn kênh tuyên truyền."
    assert "không âm" in _error_after(counts.text, "p-e-count")
    assert await _head(ui.api.db) == head
    ok = await ui.post("/hoc-tap/buoi-hoc", ("H1", "editor"), {**session, "attended": "48"})
    assert ok.status_code == 303
    page = text_of(await ui.page(ok.headers["location"], ("H1", "viewer")))
    assert "Đã ghi buổi học tập, quán triệt." in page
    assert "10/04/2021 Hội nghị quán triệt" in page
    assert "Trực tuyến 50 48 96%" in page
    ok = await ui.post(
        "/hoc-tap/tuyen-truyen",
        ("H1", "editor"),
        {"channel": "oral", "period_start": "01/05/2021", "period_end": "31/05/2021", "count": "4", "reached": "1.200"},
    )
    assert ok.status_code == 303
    async with ui.api.db.read() as conn:
        sessions = await records(conn, STUDY_SESSION, select(*STUDY_SESSION.table.c))
        activities = await records(conn, PROPAGANDA, select(*PROPAGANDA.table.c))
    assert [(s.owner, s.attended) for s in sessions] == [(h1, 48)]
    assert [(a.owner, a.reached) for a in activities] == [(h1, 1200)]


async def test_grades_by_form_and_by_xlsx_with_the_row_report_on_the_page(ui: Ui, mk: Maker) -> None:
    doc = await mk.doc("TU")
    base = ui.api.id("H1B1")
    an = await mk.member("H1B1", full_name="Nguyễn Văn An", birth_year=1980)
    await mk.member("H1B1", full_name="Trần Thị Bình", birth_year=1985)
    where = f"document={doc['id']}&unit={base}"
    head = await _head(ui.api.db)
    bad = await ui.post(f"/bai-thu-hoach/cham?{where}", ("H1", "editor"), {"member": an["id"], "score": "11"})
    assert bad.status_code == 422
    assert _error_after(bad.text, "g-e-score") == "Điểm 11 nằm ngoài thang điểm: điểm phải từ 0 đến 10."
    assert _error_after(bad.text, "g-e-graded_on") == "Chưa nhập ngày."
    rows = [
        ["Họ và tên", "Năm sinh", "Điểm", "Ngày chấm"],
        ["Nguyễn Văn An", 1980, "8,5", "02/05/2021"],
        ["Người Lạ", 1990, "7", "02/05/2021"],
        ["Trần Thị Bình", 1985, "mười", "02/05/2021"],
    ]
    refused = await ui.post(
        f"/bai-thu-hoach/nhap?{where}", ("H1", "editor"), files={"file": ("diem.xlsx", xlsx(rows), XLSX)}
    )
    assert refused.status_code == 422
    text = text_of(refused.text)
    assert "Tệp có 2 lỗi; không dòng nào được ghi." in text
    assert "3 Họ và tên Không tìm thấy đảng viên có họ tên và năm sinh này trong danh sách." in text
    assert "4 Điểm" in text
    not_xlsx = await ui.post(
        f"/bai-thu-hoach/nhap?{where}", ("H1", "editor"), files={"file": ("diem.xlsx", b"not a workbook", XLSX)}
    )
    assert _error_after(not_xlsx.text, "i-e-file") == "Tệp không phải bảng tính Excel .xlsx đọc được."
    assert await _head(ui.api.db) == head
    rows[2:] = [["Trần Thị Bình", 1985, 4.5, "02/05/2021"]]
    done = await ui.post(
        f"/bai-thu-hoach/nhap?{where}", ("H1", "editor"), files={"file": ("diem.xlsx", xlsx(rows), XLSX)}
    )
    assert done.status_code == 303
    page = text_of(await ui.page(done.headers["location"], ("H1", "viewer")))
    assert "Đã nhập 2 điểm từ tệp." in page
    assert "Đơn vị H1B1 (toàn đơn vị) 2 2 100% 0 0 0 — 0 1 0 1 1" in page
    assert "Trần Thị Bình (1985) Đơn vị H1B1 1 4,5 02/05/2021" in page
    rewrite = await ui.post(
        f"/bai-thu-hoach/cham?{where}",
        ("H1", "editor"),
        {"member": an["id"], "score": "9", "graded_on": "03/05/2021"},
    )
    assert rewrite.status_code == 422  # An's 8,5 is Khá: no rewrite is owed (D13)
    assert "không phải viết lại" in text_of(rewrite.text)
    async with ui.api.db.read() as conn:
        grades = await records(conn, ESSAY_GRADE, select(*ESSAY_GRADE.table.c))
    assert sorted(g.score for g in grades) == [Decimal("4.5"), Decimal("8.5")]


async def test_roster_import_checks_then_writes(ui: Ui, mk: Maker) -> None:
    base = ui.api.id("H1B1")
    rows = [
        ["Họ và tên", "Năm sinh", "Diện", "Chức vụ", "Chi bộ nông thôn"],
        ["Nguyễn Văn An", 1980, "", "Bí thư chi bộ", ""],
        ["Lê Thị Hoa", 1950, "Trên 60 tuổi", "", ""],
        ["", "năm", "Diện lạ", "", ""],
    ]
    head = await _head(ui.api.db)
    refused = await ui.post(
        f"/dang-vien/nhap?unit={base}", ("H1", "editor"), files={"file": ("ds.xlsx", xlsx(rows), XLSX)}
    )
    assert refused.status_code == 422
    text = text_of(refused.text)
    assert "Tệp có 3 lỗi" in text
    assert "4 Họ và tên Thiếu họ và tên." in text
    assert "4 Diện Diện «Diện lạ» không có trong danh mục (D12)." in text
    del rows[3]
    checked = await ui.post(
        f"/dang-vien/nhap?unit={base}",
        ("H1", "editor"),
        {"dry_run": "1"},
        files={"file": ("ds.xlsx", xlsx(rows), XLSX)},
    )
    assert checked.status_code == 200
    assert "Kiểm tra xong, chưa ghi gì" in text_of(checked.text)
    assert await _head(ui.api.db) == head
    done = await ui.post(
        f"/dang-vien/nhap?unit={base}", ("H1", "editor"), files={"file": ("ds.xlsx", xlsx(rows), XLSX)}
    )
    assert done.status_code == 303
    page = text_of(await ui.page(done.headers["location"], ("H1", "viewer")))
    assert "Đã nhập: thêm 2, cập nhật 0, giữ nguyên 0 đảng viên." in page
    assert "Lê Thị Hoa 1950 Đơn vị H1B1 Trên 60 tuổi" in page
    assert await _count(ui.api.db, MEMBER.table) == 2
    # The sibling district's staff never see these names (D4), on any page.
    for path in ("/dang-vien", "/bai-thu-hoach", "/"):
        assert "Lê Thị Hoa" not in await ui.page(path, ("H2", "admin"))
    assert await _count(ui.api.db, DOCUMENT.table) == 0


async def test_sync_page_shows_child_nodes_to_admins_only(ui: Ui) -> None:
    admin = text_of(await ui.page("/dong-bo", ("TU", "admin")))
    assert "Máy này: máy chủ tỉnh" in admin
    assert "Chưa có máy cấp dưới nào đăng ký" in admin
    viewer = text_of(await ui.page("/dong-bo", ("TU", "viewer")))
    assert "Chỉ quản trị xem được tình trạng máy cấp dưới." in viewer
