"""The review calendar in a real browser (issue 12, D16–D21): a document's calendar opened from its page, a review
moved by typing and clicking (D17), and every calendar page at laptop and phone width."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import DESKTOP, PHONE, Hub, Watched, check_page, screenshot

WIDTHS = [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")]
# One review moved per width, so the two runs do not refuse each other as duplicates (D17: one override a review).
MOVED = {DESKTOP: ("preliminary", "Sơ kết", "15/01/2024"), PHONE: ("final", "Tổng kết", "01/06/2025")}


@pytest.fixture(scope="module")
def document_url(hub: Hub, browser: Browser, accounts: dict[str, dict[str, Any]]) -> str:
    """A provincial resolution entered on its page by the province's admin."""
    context = browser.new_context(storage_state=accounts["tinhuy"])  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(hub.url + "/van-ban/moi")
    page.get_by_label("Số, ký hiệu").fill("12-NQ/TU")
    page.get_by_label("Trích yếu").fill("về phát triển kinh tế - xã hội vùng đồng bào dân tộc thiểu số")
    page.get_by_label("Ngày ký").fill("01/03/2021")
    page.get_by_label("Cơ quan chủ trì tham mưu").fill("Ban Tuyên giáo Tỉnh ủy")
    page.locator("main button", has_text="Ghi văn bản").click()
    try:
        page.wait_for_url(re.compile(r"/van-ban/[0-9a-f-]{36}"))
    except Exception:
        pytest.fail(f"the document was not entered ({screenshot(page, 'calendar-doc.png')})", pytrace=False)
    url = page.url.split("?", 1)[0]
    context.close()
    return url


@pytest.mark.parametrize("width", WIDTHS)
def test_d17_a_review_is_moved_from_the_document_calendar_by_typing_and_clicking(
    document_url: str, open_page: Callable[[str | None, int], Watched], width: int
) -> None:
    kind, label, due = MOVED[width]
    watched = open_page("tinhuy", width)
    page = watched.page
    page.goto(document_url)
    page.get_by_role("link", name="Lịch sơ kết, tổng kết của văn bản").click()
    page.wait_for_url(re.compile(r"/lich-so-ket/van-ban/"))
    assert "01/03/2024" in page.inner_text("main"), "D16: the preliminary review 3 full years after signing"
    check_page(watched)
    # Refused first: no instructing document. The page says where, and keeps what was typed.
    page.get_by_role("combobox", name=re.compile("^Mốc")).select_option(kind)
    page.get_by_label("Hạn mới").fill(due)
    page.get_by_label("Lý do điều chỉnh").fill("Theo chỉ đạo của Ban Thường vụ Tỉnh ủy")
    page.get_by_role("button", name="Ghi điều chỉnh").click()
    error = page.locator("#o-e-instructing_document")
    error.wait_for()
    assert "văn bản chỉ đạo" in error.inner_text()
    assert page.get_by_label("Hạn mới").input_value() == due
    assert page.get_by_label("Lý do điều chỉnh").input_value() == "Theo chỉ đạo của Ban Thường vụ Tỉnh ủy"
    # The refusal answers 422 on purpose (the browser logs it too); anything else is a fault.
    expected = [p for p in watched.problems if "422" in p]
    assert expected, watched.problems
    assert expected == watched.problems, watched.problems
    watched.problems.clear()
    check_page(watched)
    page.get_by_role("textbox", name=re.compile("^Văn bản chỉ đạo")).fill("15-CV/TU")
    page.get_by_role("button", name="Ghi điều chỉnh").click()
    page.locator("p.ok").wait_for()
    rows = page.locator("#dieu-chinh-h + .scroll tbody tr", has_text="15-CV/TU")
    mine = rows.filter(has_text=label).filter(has_text=due)
    assert mine.count() == 1, page.inner_text("main")
    assert "Theo chỉ đạo của Ban Thường vụ Tỉnh ủy" in mine.inner_text()
    assert "điều chỉnh theo 15-CV/TU" in page.locator("#moc-h + .scroll").inner_text()
    screenshot(page, f"calendar-document-{width}.png")
    check_page(watched)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("username", ["tinhuy", "giatien"])
def test_every_calendar_page_passes_the_checks(
    hub: Hub, document_url: str, open_page: Callable[[str | None, int], Watched], username: str, width: int
) -> None:
    """The calendar, its plans, projects and held reviews, as the province's admin and a base's editor (D4)."""
    watched = open_page(username, width)
    page = watched.page
    for path, name in (
        ("/lich-so-ket", "calendar"),
        ("/lich-so-ket/ke-hoach?term_start=01/10/2020", "plans"),
        ("/lich-so-ket/de-an", "projects"),
        ("/lich-so-ket/da-to-chuc", "held"),
        ("/lich-so-ket/van-ban/" + document_url.rsplit("/", 1)[1], "document"),
    ):
        page.goto(hub.url + path)
        assert page.locator("h1").count() == 1, path
        # text_content, not inner_text: on a phone the menu is folded and its entries hidden.
        assert page.locator("nav.main a[aria-current=page]").text_content() == "Lịch sơ kết, tổng kết"
        check_page(watched)
        screenshot(page, f"calendar-{name}-{username}-{width}.png")
    # Printed for the committee's file: the tables, without the menus and the forms.
    page.emulate_media(media="print")
    for chrome in ("nav.main", "nav.subnav", "main form"):
        assert not page.locator(chrome).first.is_visible(), f"{chrome} shows in print"
    assert page.locator("main table").first.is_visible()


def _issue_plan(page: Page, hub: Hub, kind: str, number: str, issued_on: str, period: tuple[str, str]) -> None:
    """Issue a plan through the plans page's form; `period` is the label and value of its term start or year."""
    page.goto(hub.url + "/lich-so-ket/ke-hoach")
    page.get_by_role("combobox", name=re.compile("^Loại kế hoạch \\*")).select_option(kind)
    page.get_by_role("textbox", name=re.compile("^Số, ký hiệu")).fill(number)
    page.get_by_role("textbox", name=re.compile("^Ngày ban hành")).fill(issued_on)
    page.get_by_role("textbox", name=re.compile(period[0])).fill(period[1])
    page.get_by_role("button", name="Ban hành kế hoạch").click()
    page.wait_for_url(re.compile(r"/lich-so-ket/ke-hoach/[0-9a-f-]{36}"))


@pytest.mark.parametrize("width", WIDTHS)
def test_d19_d21_a_plan_is_issued_and_a_project_proposed_through_their_forms(
    document_url: str, hub: Hub, open_page: Callable[[str | None, int], Watched], width: int
) -> None:
    """The province issues next year's plan (D19) and its lead agency proposes a review project (D21)."""
    watched = open_page("tinhuy", width)
    page = watched.page
    _issue_plan(page, hub, "term", f"{width}-KH/TU", "01/12/2020", ("^Ngày bắt đầu nhiệm kỳ \\(", "01/10/2020"))
    main = page.inner_text("main")
    assert "12-NQ/TU" in main
    assert "Ban hành đúng hạn" in main
    check_page(watched)
    screenshot(page, f"calendar-plan-{width}.png")
    page.goto(hub.url + "/lich-so-ket/de-an")
    page.get_by_role("combobox", name=re.compile("^Văn bản \\*")).select_option(
        label="12-NQ/TU — về phát triển kinh tế - xã hội vùng đồng bào dân tộc thiểu số"
    )
    page.get_by_role("combobox", name=re.compile("^Việc \\*")).select_option("final")
    page.get_by_label("Tên đề án").fill("Đề án tổng kết 5 năm thực hiện Nghị quyết 12-NQ/TU")
    page.get_by_label("Ngày đề xuất").fill("01/09/2025")
    page.get_by_role("button", name="Ghi đề án").click()
    page.wait_for_url(re.compile(r"/lich-so-ket/de-an/[0-9a-f-]{36}"))
    page.get_by_label("Ngày cấp ủy phê duyệt").fill("15/09/2025")
    page.get_by_role("button", name="Ghi thay đổi").click()
    page.locator("p.ok").wait_for()
    assert "Đã phê duyệt, ngày 15/09/2025" in page.inner_text("main")
    check_page(watched)
    screenshot(page, f"calendar-project-{width}.png")


@pytest.mark.parametrize("width", WIDTHS)
def test_d19_d20_an_issued_plan_is_corrected_on_its_page(
    document_url: str, hub: Hub, open_page: Callable[[str | None, int], Watched], width: int
) -> None:
    """The province corrects the year and the date of issue of a plan it issued (D19); lateness follows (D20)."""
    watched = open_page("tinhuy", width)
    page = watched.page
    _issue_plan(page, hub, "year", f"3{width}-KH/TU", "01/02/2024", ("^Năm áp dụng", "2024"))
    assert "Ban hành muộn" in page.inner_text("main"), "D19: the plan for 2024 issued in 2024"
    form = page.locator("form", has=page.get_by_role("button", name="Lưu kế hoạch đã sửa"))
    form.get_by_role("textbox", name=re.compile("^Năm áp dụng")).fill("2026")
    form.get_by_role("textbox", name=re.compile("^Ngày ban hành")).fill("01/12/2025")
    form.get_by_role("button", name="Lưu kế hoạch đã sửa").click()
    page.get_by_role("status").wait_for()
    main = page.inner_text("main")
    assert f"Đã sửa kế hoạch 3{width}-KH/TU" in main
    assert "01/01/2026 – 31/12/2026" in main
    assert "Ban hành đúng hạn" in main
    check_page(watched)
    screenshot(page, f"calendar-plan-revised-{width}.png")
