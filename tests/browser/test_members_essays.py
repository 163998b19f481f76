"""A base's editor adds a member by typing, grades an essay 4,5 (Yếu), sees the rewrite owed, enters the rewrite's
grade, sees every attempt and corrects a score (D12, D13) — in Chromium, at laptop and phone width, every page
checked."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, expect

from tests.browser.conftest import DESKTOP, PHONE, Hub, Watched, check_page, screenshot

WIDTHS = [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")]
NAMES = {DESKTOP: "Hà Thị Lụa", PHONE: "Bùi Văn Đông"}
"""One member per width: the hub is shared by the whole session."""


@pytest.fixture(scope="module")
def document(hub: Hub, browser: Browser, accounts: dict[str, dict[str, Any]]) -> str:
    """The district enters the resolution its members study, on its page."""
    context = browser.new_context(storage_state=accounts["huyenuy"])  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(hub.url + "/van-ban/moi")
    page.get_by_label("Số, ký hiệu").fill("12-NQ/HU")
    page.get_by_label("Trích yếu").fill("về nâng cao chất lượng sinh hoạt chi bộ")
    page.get_by_label("Ngày ký").fill("15/03/2021")
    page.get_by_label("Cơ quan chủ trì tham mưu").fill("Ban Tuyên giáo Huyện ủy")
    page.locator("main button", has_text="Ghi văn bản").click()
    page.wait_for_url(re.compile(r"/van-ban/[0-9a-f-]{36}"))
    context.close()
    return "12-NQ/HU"


def _choose(select: Locator, text: str) -> None:
    """Pick the option whose label contains `text` (a document's number), as a person reading the list does."""
    value = select.locator("option", has_text=text).first.get_attribute("value")
    assert value, f"no option with {text}"
    select.select_option(value)


def _refused_as_expected(watched: Watched) -> None:
    """A refused form answers 422 on purpose (the browser logs it): that and nothing else went wrong."""
    unexpected = [p for p in watched.problems if "422" not in p]
    assert not unexpected, unexpected
    watched.problems.clear()


@pytest.mark.parametrize("width", WIDTHS)
def test_d13_a_member_added_graded_yeu_rewritten_and_the_history_shown(
    hub: Hub, document: str, open_page: Callable[[str | None, int], Watched], width: int
) -> None:
    name = NAMES[width]
    watched = open_page("giatien", width)
    page = watched.page
    page.goto(hub.url + "/dang-vien")
    check_page(watched)
    # A refused form says what to fix next to the field and keeps what was typed.
    form = page.locator("form", has=page.get_by_role("button", name="Thêm đảng viên"))
    form.get_by_label("Chi bộ, đảng bộ").select_option(label="Đảng bộ xã Gia Tiến")
    form.get_by_label("Họ và tên").fill(name)
    form.get_by_label("Năm sinh").fill("197")
    form.get_by_role("button", name="Thêm đảng viên").click()
    expect(page.locator("#a-e-birth_year")).to_be_visible()
    expect(form.get_by_label("Họ và tên")).to_have_value(name)
    _refused_as_expected(watched)
    check_page(watched)
    page.locator("form", has=page.get_by_role("button", name="Thêm đảng viên")).get_by_label("Năm sinh").fill("1979")
    page.get_by_role("button", name="Thêm đảng viên").click()
    expect(page.get_by_role("status")).to_contain_text("Đã thêm đảng viên")
    expect(page.get_by_role("link", name=name)).to_be_visible()

    page.goto(hub.url + "/bai-thu-hoach")
    page.get_by_role("link", name="Chấm bài theo danh sách").click()
    _choose(page.get_by_label("Văn bản"), document)
    with page.expect_navigation():
        page.get_by_role("button", name="Lọc").click()
    check_page(watched)
    box = page.get_by_label(f"Điểm của {name}")
    box.fill("4,5")
    page.get_by_label("Ngày chấm").fill("05/05/2021")
    page.get_by_role("button", name="Ghi điểm").click()
    expect(page.get_by_role("status")).to_contain_text("Đã ghi điểm 1 bài")
    row = page.locator("tr", has=page.get_by_role("link", name=name))
    expect(row).to_contain_text("Lần 1: 4,5 — Yếu (05/05/2021)")
    expect(row).to_contain_text("Phải viết lại")
    check_page(watched)
    screenshot(page, f"cham-viet-lai-{width}.png")
    page.get_by_label(f"Điểm viết lại lần 2 của {name}").fill("6,5")
    page.get_by_label("Ngày chấm").fill("20/05/2021")
    page.get_by_role("button", name="Ghi điểm").click()
    expect(page.get_by_role("status")).to_contain_text("Đã ghi điểm 1 bài")
    row = page.locator("tr", has=page.get_by_role("link", name=name))
    expect(row).to_contain_text("Lần 2: 6,5 — Trung bình (20/05/2021)")
    expect(row).to_contain_text("Đã đạt")
    check_page(watched)
    screenshot(page, f"cham-theo-danh-sach-{width}.png")

    row.get_by_role("link", name=name).click()
    page.wait_for_url(re.compile(r"/dang-vien/[0-9a-f-]{36}"))
    history = page.locator("section", has=page.get_by_role("heading", name="Bài thu hoạch"))
    expect(history).to_contain_text(document)
    expect(history.locator("tbody tr")).to_have_count(2)
    expect(history.locator("tbody tr").first).to_contain_text("Đã viết lại")
    expect(history.locator("tbody tr").last).to_contain_text("Kết quả")
    check_page(watched)
    screenshot(page, f"dang-vien-chi-tiet-{width}.png")

    # A score typed wrong is corrected from the attempt's page; the band follows the score (D13).
    history.get_by_role("link", name="Lần 2: xem, sửa điểm").click()
    page.wait_for_url(re.compile(r"/bai-thu-hoach/[0-9a-f-]{36}/sua"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    check_page(watched)
    page.get_by_role("textbox", name="Điểm").fill("8,5")
    page.get_by_role("button", name="Ghi điểm đã sửa").click()
    expect(page.get_by_role("status")).to_contain_text("Đã ghi điểm đã sửa")
    check_page(watched)
    screenshot(page, f"sua-diem-{width}.png")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_template_page_passes_the_checks(
    hub: Hub, document: str, open_page: Callable[[str | None, int], Watched], width: int
) -> None:
    """The district writes its template (D11); the base reads it."""
    watched = open_page("huyenuy", width)
    page = watched.page
    page.goto(hub.url + "/bai-thu-hoach/mau")
    check_page(watched)
    if width == DESKTOP:
        _choose(page.locator("#t-document"), document)
        page.get_by_label("Tên mẫu").fill("Câu hỏi thu hoạch Nghị quyết 12-NQ/HU")
        page.get_by_label(re.compile("Câu hỏi thu hoạch")).fill("Những điểm mới?\nLiên hệ trách nhiệm bản thân?")
        page.get_by_label("Ngày ban hành").fill("20/03/2021")
        page.get_by_role("button", name="Ghi mẫu").click()
        expect(page.get_by_role("status")).to_contain_text("Đã ghi mẫu")
        check_page(watched)
    screenshot(page, f"mau-{width}.png")
    base = open_page("giatien", width)
    base.page.goto(hub.url + "/bai-thu-hoach/mau")
    check_page(base)
