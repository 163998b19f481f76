"""Every page of the menu, and a report draft started through its form, at laptop and phone width (issue 12)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from shared.ui.web import ADMIN_NAV, NAV
from tests.browser.conftest import ACCOUNTS, DESKTOP, PHONE, Hub, Watched, check_page, screenshot

WIDTHS = [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("username", ["huyenuy", "giatien"])
def test_every_menu_page_passes_the_checks(
    hub: Hub, open_page: Callable[[str | None, int], Watched], username: str, width: int
) -> None:
    """One page per menu entry, as a district admin and as a base's editor (roles and levels differ, D4)."""
    watched = open_page(username, width)
    for href, label in NAV + (ADMIN_NAV if ACCOUNTS[username][1] == "admin" else ()):
        watched.page.goto(hub.url + href)
        assert watched.page.locator("h1").count() == 1, f"{href} ({label}) has no single heading"
        check_page(watched)


@pytest.fixture(scope="module")
def draft_url(hub: Hub, browser: Browser, accounts: dict[str, dict[str, Any]]) -> str:
    """A document entered and a report draft started on their pages, as the district's admin does it."""
    context = browser.new_context(storage_state=accounts["huyenuy"])  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(hub.url + "/van-ban/moi")
    page.get_by_label("Số, ký hiệu").fill("05-NQ/HU")
    page.get_by_label("Trích yếu").fill("về xây dựng tổ chức cơ sở đảng trong sạch, vững mạnh")
    page.get_by_label("Ngày ký").fill("10/03/2021")
    page.get_by_label("Cơ quan chủ trì tham mưu").fill("Ban Tổ chức Huyện ủy")
    page.locator("main button", has_text="Ghi văn bản").click()
    page.goto(hub.url + "/bao-cao")
    page.get_by_label("Tên báo cáo").fill("Báo cáo sơ kết 3 năm thực hiện Nghị quyết 05-NQ/HU")
    page.get_by_label("I. Kết quả thực hiện").fill("Đảng bộ đã tổ chức 4 hội nghị học tập, 98,5% đảng viên tham dự.")
    page.locator("main button", has_text="Lưu dự thảo").click()
    try:
        page.wait_for_url(re.compile(r"/bao-cao/[0-9a-f-]{36}"))
    except Exception:
        pytest.fail(f"the draft was not started ({screenshot(page, 'draft-start.png')})", pytrace=False)
    url = page.url.split("?", 1)[0]
    context.close()
    return url


@pytest.mark.parametrize("width", WIDTHS)
def test_a_report_draft_page_passes_the_checks(
    draft_url: str, open_page: Callable[[str | None, int], Watched], width: int
) -> None:
    """The draft page (D23–D25): versions, workshop, submit — with its long forms and tables, also on a phone."""
    watched = open_page("huyenuy", width)
    watched.page.goto(draft_url)
    assert "05-NQ/HU" in watched.page.inner_text("main")
    check_page(watched)
    # The way back to the list, large enough to touch on a phone, on the document and unit viewed.
    back = watched.page.locator("nav.breadcrumbs").get_by_role("link", name="Báo cáo sơ kết, tổng kết")
    assert back.bounding_box()["height"] >= (44 if width == PHONE else 1)  # type: ignore[index]
    assert "document=" in (back.get_attribute("href") or "")
    # Printed for the committee's file: the content only, no menu, breadcrumbs, sync bar, forms or buttons.
    watched.page.emulate_media(media="print")
    for chrome in ("header.top", "nav.main", "nav.breadcrumbs", ".syncstate", "main form", "main button"):
        assert not watched.page.locator(chrome).first.is_visible(), f"{chrome} shows in print"
    assert watched.page.locator("main h1").is_visible()


def test_the_header_says_who_works_where_and_how_sync_stands(
    hub: Hub, open_page: Callable[[str | None, int], Watched]
) -> None:
    """Unit, level and role in the header (D4: what one sees depends on them); sync state on every page."""
    page = open_page("giatien", PHONE).page
    page.goto(hub.url + "/van-ban")
    header = " ".join(page.inner_text("header").split())
    assert "Đảng bộ xã Gia Tiến" in header
    assert "Cấp cơ sở" in header
    assert "Cập nhật" in header
    assert "Người dùng: giatien" in header
    bar = page.locator(".syncstate")
    assert "Máy chủ tỉnh" in bar.inner_text()
    bar.get_by_role("link", name="Chi tiết đồng bộ").click()
    page.wait_for_url(hub.url + "/dong-bo")


def test_on_a_phone_the_menu_is_folded_above_the_page_and_opens_on_a_tap(
    hub: Hub, open_page: Callable[[str | None, int], Watched]
) -> None:
    """A district admin's 15 entries filled the phone's first screen; folded, the page's heading shows first."""
    page = open_page("huyenuy", PHONE).page
    page.goto(hub.url + "/dang-vien")
    fold = page.locator("nav.main summary")
    expect(fold).to_contain_text("đang ở: Đảng viên")
    expect(page.locator("nav.main").get_by_role("link", name="Tài khoản")).to_be_hidden()
    heading = page.locator("h1").bounding_box()
    assert heading is not None
    assert heading["y"] < 400, f"the page's heading starts {heading['y']:.0f} px down (unfolded: ~600)"
    fold.click()
    page.locator("nav.main").get_by_role("link", name="Tài khoản").click()
    page.wait_for_url(hub.url + "/tai-khoan")
    expect(page.locator("nav.main summary")).to_contain_text("đang ở: Tài khoản")


def test_on_a_laptop_the_menu_is_open_with_no_fold(hub: Hub, open_page: Callable[[str | None, int], Watched]) -> None:
    page = open_page("huyenuy", DESKTOP).page
    page.goto(hub.url + "/dang-vien")
    expect(page.locator("nav.main summary")).to_be_hidden()
    expect(page.locator("nav.main").get_by_role("link", name="Tài khoản")).to_be_visible()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_sign_in_page_passes_the_checks(
    hub: Hub, open_page: Callable[[str | None, int], Watched], width: int
) -> None:
    """The first page anyone sees, signed out (every other page leads to it)."""
    watched = open_page(None, width)
    watched.page.goto(hub.url + "/")
    watched.page.wait_for_url(lambda url: "/dang-nhap" in url)
    check_page(watched)
