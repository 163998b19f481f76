"""Tài khoản and Nút cấp dưới pages (issue 12, D4, D27): admins manage who signs in and which child nodes sync,
through the same functions as the API and the CLI; errors next to the field with what was typed kept."""

from __future__ import annotations

import re

from sqlalchemy import select

from shared.accounts.records import SessionRow, UserRow
from shared.catalogue import build_registry
from shared.settings import SyncSettings
from shared.sync.parent import Parent
from shared.sync.protocol import PROTOCOL, EnrolRequest
from tests.ui.conftest import Ui, text_of


async def _user(ui: Ui, username: str) -> UserRow:
    async with ui.api.db.read() as conn:
        row: UserRow = (await conn.execute(select(UserRow).where(UserRow.username == username))).one()
    return row


async def test_d27_accounts_page_adds_changes_disables_resets_and_signs_out(ui: Ui) -> None:
    page = text_of(await ui.page("/tai-khoan"))
    assert "Tài khoản đăng nhập" in page
    assert (await ui.get("/tai-khoan", ("TU", "editor"))).status_code == 403
    # Refused input: each problem next to its field, what was typed kept (never the password).
    bad = await ui.post(
        "/tai-khoan/them", data={"username": "co dau cach", "unit": "XX9", "role": "editor", "password": "ngan"}
    )
    assert bad.status_code == 422
    assert re.search(r'id="a-e-unit">Không có đơn vị mã «XX9»', bad.text)
    assert 'value="XX9"' in bad.text
    assert 'value="ngan"' not in bad.text
    weak = await ui.post(
        "/tai-khoan/them", data={"username": "vanphong", "unit": "H1", "role": "editor", "password": "1234567890"}
    )
    assert re.search(r'id="a-e-password">Mật khẩu này quá phổ biến', weak.text)
    made = await ui.post(
        "/tai-khoan/them",
        data={
            "username": "vanphong",
            "full_name": "Văn phòng H1",
            "unit": "H1",
            "role": "viewer",
            "password": "chi bo hop ngay 5",
        },
    )
    assert made.status_code == 303
    assert "đổi mật khẩu" in text_of(await ui.page(made.headers["location"]))
    user = await _user(ui, "vanphong")
    assert user.must_change_password
    assert user.unit == ui.api.id("H1")
    # Another district's admin neither sees nor changes it (D4).
    assert "<td>vanphong</td>" not in await ui.page("/tai-khoan", ("H2", "admin"))
    foreign = await ui.post(f"/tai-khoan/{user.id}/vai-tro", ("H2", "admin"), {"role": "admin"})
    assert foreign.status_code == 403
    assert (await ui.post(f"/tai-khoan/{user.id}/vai-tro", data={"role": "editor"})).status_code == 303
    assert (await _user(ui, "vanphong")).role == "editor"
    # Sign it in, then sign it out everywhere, disable it, reset its password.
    signed = await ui.api.client.post(
        "/api/v1/auth/login", json={"username": "vanphong", "password": "chi bo hop ngay 5"}
    )
    assert signed.status_code == 200
    ui.api.client.cookies.clear()

    async def sessions() -> int:
        async with ui.api.db.read() as conn:
            return len((await conn.execute(select(SessionRow).where(SessionRow.user_id == user.id))).all())

    assert await sessions() == 1
    assert (await ui.post(f"/tai-khoan/{user.id}/dang-xuat")).status_code == 303
    assert await sessions() == 0
    assert (await ui.post(f"/tai-khoan/{user.id}/khoa")).status_code == 303
    assert not (await _user(ui, "vanphong")).active
    assert (await ui.post(f"/tai-khoan/{user.id}/mo-khoa")).status_code == 303
    short = await ui.post(f"/tai-khoan/{user.id}/mat-khau", data={"password": "ngan"})
    assert short.status_code == 422
    assert "ít nhất 10 ký tự" in text_of(short.text)
    reset = await ui.post(f"/tai-khoan/{user.id}/mat-khau", data={"password": "mat khau moi cua h1"})
    assert reset.status_code == 303
    assert (await _user(ui, "vanphong")).must_change_password


async def test_d4_nodes_page_issues_a_code_shown_once_lists_rotates_and_revokes(ui: Ui) -> None:
    assert "Chưa có nút nào" in text_of(await ui.page("/nut-cap-duoi"))
    outside = await ui.post("/nut-cap-duoi/ma", ("H1", "admin"), {"unit": "H2B1", "hours": "72"})
    assert outside.status_code == 422
    assert 'value="H2B1"' in outside.text
    assert "Không có đơn vị mã «H2B1» trong phạm vi" in text_of(outside.text)
    issued = await ui.post("/nut-cap-duoi/ma", ("H1", "admin"), {"unit": "H1B1", "hours": "48"})
    assert issued.status_code == 200
    code = re.search(r'id="issued-code" type="text" readonly value="([^"]+)"', issued.text)
    assert code
    assert re.search(r"Hết hạn lúc <strong>\d\d:\d\d \d\d/\d\d/\d{4}</strong>", issued.text)
    assert code.group(1) not in await ui.page("/nut-cap-duoi", ("H1", "admin")), "shown once"
    parent = Parent(ui.api.db, build_registry(), SyncSettings())  # the child's side, on this test's loop
    enrolled = await parent.enrol(EnrolRequest(protocol=PROTOCOL, code=code.group(1), label="máy chi bộ"))
    listed = text_of(await ui.page("/nut-cap-duoi", ("H1", "admin")))
    assert "máy chi bộ" in listed
    assert "máy chi bộ" not in await ui.page("/nut-cap-duoi", ("H2", "admin")), "another district's node (D4)"
    refused = await ui.post(f"/nut-cap-duoi/{enrolled.node_id}/thu-hoi", ("H2", "admin"))
    assert refused.status_code == 403
    rotated = await ui.post(f"/nut-cap-duoi/{enrolled.node_id}/doi-khoa", ("H1", "admin"))
    assert rotated.status_code == 200
    credential = re.search(r'id="issued-credential" type="text" readonly value="([^"]+)"', rotated.text)
    assert credential
    assert credential.group(1) != enrolled.credential
    assert (await ui.post(f"/nut-cap-duoi/{enrolled.node_id}/thu-hoi", ("H1", "admin"))).status_code == 303
    assert "đã thu hồi" in text_of(await ui.page("/nut-cap-duoi", ("H1", "admin")))
