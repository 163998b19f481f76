"""Sign-in attempts on the audit pages (D27, issue 15): every attempt with its outcome and address, for the
accounts of the viewer's subtree only; attempts naming no account at the instance's top level only; as .xlsx too."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.domain_harness import account
from tests.ui.conftest import Ui, text_of

PAGE = "/nhat-ky/dang-nhap"


async def _try(ui: Ui, username: str, password: str) -> int:
    answer = await ui.api.client.post("/api/v1/auth/login", json={"username": username, "password": password})
    return int(answer.status_code)


async def test_d27_attempts_are_listed_for_the_subtree_with_their_outcome(ui: Ui) -> None:
    await account(ui.api.db, ui.api.id("H1"), "editor", username="vanphong-h1")
    await account(ui.api.db, ui.api.id("H2"), "editor", username="vanphong-h2")
    assert await _try(ui, "vanphong-h1", "sai mat khau roi") == 401
    assert await _try(ui, "vanphong-h2", "cung sai mat khau") == 401
    assert await _try(ui, "khong-co-ai", "mat khau bat ky") == 401

    district = text_of(await ui.page(PAGE, ("H1", "admin")))
    assert "vanphong-h1" in district
    assert "Sai mật khẩu" in district
    assert "vanphong-h2" not in district, "D4: a sibling district's accounts are not shown"
    assert "khong-co-ai" not in district, "a username naming no account is shown at the top level only"

    province = text_of(await ui.page(PAGE))
    assert "vanphong-h1" in province
    assert "vanphong-h2" in province
    assert "khong-co-ai Không có tài khoản này" not in province  # the unit column sits between
    assert "khong-co-ai — " in province
    assert "Không có tài khoản này" in province

    only = text_of(await ui.page(f"{PAGE}?username=vanphong-h2"))
    assert "vanphong-h2" in only
    assert "vanphong-h1" not in only

    got = await ui.get(f"{PAGE}.xlsx", ("H1", "admin"))
    assert got.status_code == 200
    sheet = load_workbook(io.BytesIO(got.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][1] == "Tài khoản"
    assert {r[1] for r in rows[1:]} == {"vanphong-h1"}
    assert rows[1][4] == "Sai mật khẩu"


async def test_only_admins_see_the_sign_in_trail(ui: Ui) -> None:
    assert (await ui.get(PAGE, ("H1", "editor"))).status_code == 403
    assert (await ui.get(f"{PAGE}.xlsx", ("H1", "viewer"))).status_code == 403
