"""Sign-in flows in a real browser (issue 15 item 2): first-login password change, sign out everywhere, idle timeout.

Its own hub with a short idle timeout (NQSYNC_IDLE_MINUTES), so an idle session can end within the test.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.browser.conftest import FIRST_PASSWORD, PASSWORD, Hub, screenshot, serve_hub

IDLE_SECONDS = 6
ENDED = "Phiên làm việc đã kết thúc"


@pytest.fixture(scope="module")
def short_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A hub whose sessions end after IDLE_SECONDS without a request; three accounts made by an admin (user-add)."""
    accounts = dict.fromkeys(("moi", "haimay", "nghi"), ("H1B1", "editor"))
    env = {"NQSYNC_IDLE_MINUTES": str(IDLE_SECONDS / 60)}
    with serve_hub(tmp_path_factory.mktemp("sign-in-hub"), accounts, env) as running:
        yield running


def _context(browser: Browser) -> BrowserContext:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    return context


def _sign_in(page: Page, hub: Hub, username: str, password: str) -> None:
    page.goto(hub.url + "/dang-nhap")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.locator("main button[type=submit]").click()


def _change_password(page: Page) -> None:
    page.get_by_label("Mật khẩu hiện tại").fill(FIRST_PASSWORD)
    page.get_by_label(re.compile(r"^Mật khẩu mới\W*$")).fill(PASSWORD)
    page.get_by_label("Nhập lại mật khẩu mới").fill(PASSWORD)
    page.get_by_role("button", name="Đổi mật khẩu").click()
    page.wait_for_url(lambda url: "/doi-mat-khau" not in url and "/dang-nhap" not in url)


def test_first_login_of_an_admin_made_account_forces_a_password_change_first(browser: Browser, short_hub: Hub) -> None:
    context = _context(browser)
    page = context.new_page()
    _sign_in(page, short_hub, "moi", FIRST_PASSWORD)
    page.wait_for_url(re.compile("/doi-mat-khau"))
    screenshot(page, "sign-in-first-login-password.png")
    # Nothing else opens before the change: any page leads back to the password form.
    for path in ("/", "/dang-vien", "/tai-khoan"):
        page.goto(short_hub.url + path)
        assert "/doi-mat-khau" in page.url, (path, page.url)
    _change_password(page)
    page.goto(short_hub.url + "/")
    assert "/doi-mat-khau" not in page.url
    assert "/dang-nhap" not in page.url
    context.close()


def test_sign_out_everywhere_ends_the_other_browsers_session(browser: Browser, short_hub: Hub) -> None:
    first, second = _context(browser), _context(browser)
    a, b = first.new_page(), second.new_page()
    _sign_in(a, short_hub, "haimay", FIRST_PASSWORD)
    _change_password(a)
    _sign_in(b, short_hub, "haimay", PASSWORD)
    b.wait_for_url(lambda url: "/dang-nhap" not in url)
    a.goto(short_hub.url + "/doi-mat-khau")
    a.locator("form[action='/dang-xuat-moi-noi'] button").click()
    a.wait_for_url(re.compile("/dang-nhap"))
    b.goto(short_hub.url + "/")
    assert "/dang-nhap" in b.url
    assert ENDED in b.locator("main").inner_text()
    screenshot(b, "sign-in-signed-out-everywhere.png")
    first.close()
    second.close()


def test_an_idle_session_lands_on_sign_in_saying_the_session_ended(browser: Browser, short_hub: Hub) -> None:
    context = _context(browser)
    page = context.new_page()
    _sign_in(page, short_hub, "nghi", FIRST_PASSWORD)
    _change_password(page)
    time.sleep(IDLE_SECONDS + 2)
    response = page.goto(short_hub.url + "/dang-vien")
    assert response is not None
    assert response.status == 200
    assert "/dang-nhap" in page.url
    text = page.locator("main").inner_text()
    assert ENDED in text
    assert "Traceback" not in text
    screenshot(page, "sign-in-idle-ended.png")
    context.close()
