"""One whole review round as the offices work it, all through pages, by clicking and typing (issue 12 item 4).

The province (hub) enters a resolution, its review plan and a questionnaire; a district node (H1) and a base node
(H1B1) are enrolled with codes issued on their parents' pages and run as real processes. At the base the secretary
adds members, records a study session, grades essays with a decimal comma (one Yếu, then rewritten, D13), answers
the survey, enters an action programme and its progress, and drafts, submits, approves and issues its report. The
nodes sync on their own every second. The district accepts that report and returns H1B2's with a reason and a new
deadline; the province consolidates and downloads the .docx and the .xlsx, which hold the base's figures.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from docx import Document as Docx
from openpyxl import load_workbook
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.conftest import (
    ACCOUNTS,
    DESKTOP,
    PHONE,
    Hub,
    Watched,
    _sign_in,
    check_page,
    screenshot,
    serve_hub,
    watch,
)
from tests.browser.nodes import Node, node

DOC = "25-NQ/TU"
DOC_TITLE = "về chuyển đổi số trong công tác xây dựng Đảng"
DOC_LABEL = f"{DOC} — {DOC_TITLE}"
SURVEY = "Khảo sát việc học tập Nghị quyết 25-NQ/TU"
BASE_REPORT = "Báo cáo sơ kết 3 năm thực hiện Nghị quyết 25-NQ/TU"
MEMBERS = ("Nguyễn Thị Hoa", "Đinh Công Sơn")
SYNC_WAIT = 60.0
"""Seconds a record may take to travel base → district → province (rounds every second; the parent trusts a
credential check for up to 10 s)."""


class Round:
    """The pages of one round: opens pages at a width as an account, checks each and keeps a screenshot of each."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.opened: list[Watched] = []
        self.step = 0

    def open(self, state: dict[str, Any], width: int = DESKTOP) -> Watched:
        self.opened.append(watch(self.browser, state, width))
        return self.opened[-1]

    def check(self, watched: Watched, name: str, *, phone: bool = False) -> None:
        """check_page at this width, a screenshot; a key page (`phone`) is opened and checked at 375 px too."""
        self.step += 1
        check_page(watched)
        screenshot(watched.page, f"round-{self.step:02d}-{name}-{DESKTOP}.png")
        if phone:
            state = watched.page.context.storage_state()
            small = self.open(dict(state), PHONE)
            small.page.goto(watched.page.url)
            check_page(small)
            screenshot(small.page, f"round-{self.step:02d}-{name}-{PHONE}.png")
            small.page.context.close()
            self.opened.remove(small)

    def close(self) -> None:
        for watched in self.opened:
            watched.page.context.close()


@pytest.fixture
def pages(browser: Browser) -> Iterator[Round]:
    r = Round(browser)
    yield r
    r.close()


def _choose(select: Locator, text: str) -> None:
    """Pick the option whose label contains `text`, as a person reading the list does."""
    value = select.locator("option", has_text=text).first.get_attribute("value")
    assert value, f"no option with {text}"
    select.select_option(value)


def _until(page: Page, url: str, seen: Callable[[Page], bool], what: str) -> None:
    """Reload `url` until `seen` (a synced record arrives), as a person would press F5."""
    deadline = time.monotonic() + SYNC_WAIT
    while True:
        page.goto(url)
        if seen(page):
            return
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not arrive in {SYNC_WAIT:.0f} s ({screenshot(page)})", pytrace=False)
        page.wait_for_timeout(1000)


def _label(page: Page | Locator, text: str) -> Locator:
    """The input whose label begins with `text` (labels of required fields end with a «*»)."""
    return page.get_by_label(re.compile("^" + re.escape(text)))


# The province: the resolution, its plan, the questionnaire.


def hub_enters_the_round(r: Round, hub: Hub, state: dict[str, Any]) -> str:
    w = r.open(state)
    page = w.page
    page.goto(hub.url + "/van-ban/moi")
    r.check(w, "van-ban-moi")
    _label(page, "Số, ký hiệu").fill(DOC)
    _label(page, "Trích yếu").fill(DOC_TITLE)
    _label(page, "Ngày ký").fill("15/01/2024")
    _label(page, "Cơ quan chủ trì tham mưu").fill("Ban Tuyên giáo Tỉnh ủy")
    page.get_by_role("button", name="Ghi văn bản").click()
    page.wait_for_url(re.compile(r"/van-ban/[0-9a-f-]{36}"))
    document_url = page.url.split("?", 1)[0]
    r.check(w, "van-ban", phone=True)

    page.goto(hub.url + "/lich-so-ket/ke-hoach")
    plan = page.locator("form", has=page.get_by_role("button", name="Ban hành kế hoạch"))
    _label(plan, "Loại kế hoạch").select_option("year")
    _label(plan, "Số, ký hiệu").fill("40-KH/TU")
    _label(plan, "Ngày ban hành").fill("10/11/2026")  # D19: before the review's plan deadline, 15/11/2026
    _label(plan, "Năm áp dụng").fill("2027")  # D19: next year's plan, which holds the 15/01/2027 review
    _choose(_label(plan, "Văn bản 1"), DOC)
    _label(plan, "Việc 1").select_option("preliminary")
    plan.get_by_role("button", name="Ban hành kế hoạch").click()
    page.wait_for_url(re.compile(r"/lich-so-ket/ke-hoach/[0-9a-f-]{36}"))
    expect(page.locator("main")).to_contain_text("Ban hành đúng hạn")
    expect(page.locator("main")).to_contain_text(DOC)
    expect(page.locator("main")).to_contain_text("15/01/2027")
    r.check(w, "ke-hoach")

    page.goto(hub.url + "/khao-sat")
    r.check(w, "khao-sat")
    form = page.locator("form", has=page.get_by_role("button", name="Lập phiếu và gửi xuống"))
    _label(form, "Tên phiếu khảo sát").fill(SURVEY)
    _choose(_label(form, "Văn bản (nếu có)"), DOC)
    _label(form, "Phương pháp").select_option("form")
    _label(form, "Từ ngày").fill("01/01/2026")
    _label(form, "Đến ngày").fill("31/12/2027")
    first = form.locator("fieldset", has_text="Câu hỏi 1")
    _label(first, "Nội dung câu hỏi").fill("Đồng chí đã được học tập Nghị quyết chưa?")
    _label(first, "Loại câu hỏi").select_option("single")
    _label(first, "Các lựa chọn").fill("Đã học tập\nChưa học tập")
    second = form.locator("fieldset", has_text="Câu hỏi 2")
    _label(second, "Nội dung câu hỏi").fill("Mức độ hiểu Nghị quyết")
    _label(second, "Loại câu hỏi").select_option("scale")
    _label(second, "Thang điểm").fill("1-5")
    form.get_by_role("button", name="Lập phiếu và gửi xuống").click()
    expect(page.get_by_role("status")).to_contain_text("Đã lập phiếu khảo sát")
    r.check(w, "khao-sat-phieu", phone=True)
    return document_url


# The base: members, a study session, grades, survey answers, its programme, its report.


def base_adds_members(r: Round, base: Node) -> None:
    w = r.open(base.state)
    page = w.page
    _until(page, base.url + "/van-ban", lambda p: DOC in p.inner_text("main"), "the resolution at the base")
    r.check(w, "co-so-van-ban")

    page.goto(base.url + "/dang-vien")
    for i, name in enumerate(MEMBERS):
        form = page.locator("form", has=page.get_by_role("button", name="Thêm đảng viên"))
        _label(form, "Chi bộ, đảng bộ").select_option(label="Đảng bộ xã Gia Tiến")
        _label(form, "Họ và tên").fill(name)
        _label(form, "Năm sinh").fill(str(1975 + i * 10))
        form.get_by_role("button", name="Thêm đảng viên").click()
        expect(page.get_by_role("status")).to_contain_text("Đã thêm đảng viên")
    expect(page.get_by_role("link", name=MEMBERS[1])).to_be_visible()
    r.check(w, "co-so-dang-vien", phone=True)


def base_records_the_round(r: Round, base: Node, document_id: str) -> None:
    """Not yet run green: written, stopped at the study form's checkbox in the last run (time box)."""
    w = r.open(base.state)
    page = w.page
    page.goto(base.url + "/dang-vien")
    page.locator("nav.main").get_by_role("link", name="Học tập & tuyên truyền").click()
    form = page.locator("form", has=page.get_by_role("button", name="Ghi buổi học"))
    _label(form, "Tên hội nghị, buổi học").fill("Hội nghị học tập, quán triệt Nghị quyết 25-NQ/TU")
    form.locator("label", has_text=DOC).locator("input").check()
    _label(form, "Ngày tổ chức").fill("01/10/2026")
    _label(form, "Hình thức").select_option("in_person")
    _label(form, "Số được triệu tập").fill("2")
    _label(form, "Số tham dự").fill("2")
    form.get_by_role("button", name="Ghi buổi học").click()
    expect(page.locator("main")).to_contain_text("01/10/2026")
    r.check(w, "co-so-hoc-tap", phone=True)

    # D13: a Yếu essay owes a rewrite; the rewrite's grade replaces it in the figures.
    page.goto(base.url + "/bai-thu-hoach")
    page.get_by_role("link", name="Chấm bài theo danh sách").click()
    _choose(page.get_by_label("Văn bản"), DOC)
    page.get_by_role("button", name="Lọc").click()
    page.get_by_label(f"Điểm của {MEMBERS[0]}").fill("4,5")
    page.get_by_label(f"Điểm của {MEMBERS[1]}").fill("8,5")
    page.get_by_label("Ngày chấm").fill("05/10/2026")
    page.get_by_role("button", name="Ghi điểm").click()
    expect(page.get_by_role("status")).to_contain_text("Đã ghi điểm 2 bài")
    first = page.locator("tr", has=page.get_by_role("link", name=MEMBERS[0]))
    expect(first).to_contain_text("Lần 1: 4,5 — Yếu (05/10/2026)")
    expect(first).to_contain_text("Phải viết lại")
    r.check(w, "co-so-cham-yeu")
    page.get_by_label(f"Điểm viết lại lần 2 của {MEMBERS[0]}").fill("6,5")
    page.get_by_label("Ngày chấm").fill("20/10/2026")
    page.get_by_role("button", name="Ghi điểm").click()
    expect(page.get_by_role("status")).to_contain_text("Đã ghi điểm 1 bài")
    expect(first).to_contain_text("Lần 2: 6,5 — Trung bình (20/10/2026)")
    r.check(w, "co-so-cham-viet-lai", phone=True)

    # D22: the questionnaire came down with the sync; two anonymous forms are entered from paper.
    _until(page, base.url + "/khao-sat", lambda p: p.get_by_role("link", name=SURVEY).count() > 0, "the survey")
    page.get_by_role("link", name=SURVEY).click()
    for point in ("4", "5"):
        form = page.locator("form", has=page.get_by_role("button", name="Ghi phiếu trả lời"))
        _label(form, "Nhóm (phiếu không ghi tên)").select_option("member")
        _label(form, "Ngày trả lời").fill("10/10/2026")
        form.get_by_role("group", name=re.compile("^1\\.")).get_by_label("Đã học tập").check()
        form.get_by_role("group", name=re.compile("^2\\.")).get_by_label(point, exact=True).check()
        form.get_by_role("button", name="Ghi phiếu trả lời").click()
        expect(page.get_by_role("status")).to_contain_text("Đã ghi phiếu trả lời")
    expect(page.locator("main")).to_contain_text("4,5")  # the scale's mean, with a decimal comma
    r.check(w, "co-so-khao-sat", phone=True)

    # D14, D15: the programme's baseline and target, then a year's progress.
    page.goto(base.url + "/chuong-trinh")
    form = page.locator("form", has=page.get_by_role("button", name="Ghi chương trình"))
    _choose(_label(form, "Văn bản thực hiện"), DOC)
    _label(form, "Loại").select_option("programme")
    _label(form, "Số văn bản").fill("05-CTr/ĐU")
    _label(form, "Tên chương trình").fill("Chương trình hành động thực hiện Nghị quyết 25-NQ/TU")
    _label(form, "Ngày ban hành").fill("01/03/2026")
    _label(form, "Kết quả khảo sát, đánh giá thực trạng").fill("Nhiều đảng viên chưa dùng sổ tay điện tử.")
    target = form.locator("fieldset", has_text="Chỉ tiêu 1")
    _label(target, "Chỉ tiêu (chỉ số đo)").fill("Tỷ lệ đảng viên dùng sổ tay đảng viên điện tử")
    _label(target, "Đơn vị tính").fill("%")
    _label(target, "Số liệu ban đầu").fill("42,5")
    _label(target, "Nguồn số liệu ban đầu").fill("Khảo sát tháng 02/2026")
    _label(target, "Giá trị chỉ tiêu").fill("95")
    _label(target, "Thời hạn").fill("31/12/2027")
    form.get_by_role("button", name="Ghi chương trình").click()
    page.wait_for_url(re.compile(r"/chuong-trinh/[0-9a-f-]{36}"))
    form = page.locator("form", has=page.get_by_role("button", name="Ghi kết quả"))
    _choose(_label(form, "Chỉ tiêu"), "sổ tay")
    _label(form, "Năm").fill("2026")
    _label(form, "Giá trị đạt được").fill("91,5")
    _label(form, "Ngày báo cáo").fill("30/11/2026")
    form.get_by_role("button", name="Ghi kết quả").click()
    expect(page.locator("main")).to_contain_text("91,5")
    r.check(w, "co-so-chuong-trinh", phone=True)

    # D23–D25: the draft, submitted to the committee, approved, issued and sent up.
    page.goto(f"{base.url}/bao-cao?document={document_id}&kind=preliminary")
    r.check(w, "co-so-bao-cao")
    _report(page, BASE_REPORT, "Đảng bộ đã tổ chức học tập, quán triệt cho 100% đảng viên.", "12-BC/ĐU")
    r.check(w, "co-so-ban-hanh", phone=True)


def _report(page: Page, title: str, text: str, number: str) -> None:
    """On a report's list page: start the draft, submit it, record the committee's approval, issue it (D23–D25)."""
    form = page.locator("form", has=page.get_by_role("button", name="Lưu dự thảo"))
    _label(form, "Tên báo cáo").fill(title)
    _label(form, "Ngày dự thảo").fill("01/12/2026")  # the draft before the committee meets, not today
    form.locator("textarea").first.fill(text)
    form.get_by_role("button", name="Lưu dự thảo").click()
    page.wait_for_url(re.compile(r"/bao-cao/[0-9a-f-]{36}"))
    _label(page, "Ngày trình cấp ủy").fill("02/12/2026")
    page.get_by_role("button", name="Trình cấp ủy").click()
    expect(page.get_by_role("status")).to_contain_text("Đã ghi trình cấp ủy")
    _label(page, "Ngày cấp ủy thông qua").fill("03/12/2026")
    page.get_by_role("button", name="Ghi thông qua").click()
    expect(page.get_by_role("status")).to_contain_text("Đã ghi cấp ủy thông qua")
    expect(page.locator("main")).to_contain_text("13/12/2026")  # D25: to be issued within 10 days of approval
    _label(page, "Số báo cáo").fill(number)
    _label(page, "Ngày ban hành").fill("04/12/2026")
    page.get_by_role("button", name="Ban hành và gửi lên").click()
    expect(page.get_by_role("status")).to_contain_text("Đã ban hành")


# The district: H1B2's report entered for it, then its decisions on both (D25b).


def district_decides(r: Round, district: Node, document_id: str) -> None:
    w = r.open(district.state)
    page = w.page
    # H1B2 runs no node of its own: the district's office enters and issues its report for it, through the same
    # pages opened «for a unit below» from the units list.
    page.goto(district.url + "/don-vi")
    page.get_by_role("link", name="Chi bộ Trường Tiểu học Vũ Lâm").click()
    page.locator("nav.main").get_by_role("link", name="Báo cáo sơ kết, tổng kết").click()
    _choose(page.get_by_label("Văn bản"), DOC)
    page.get_by_label("Đợt", exact=True).select_option("preliminary")
    page.get_by_role("button", name="Xem").click()
    expect(page.locator("main")).to_contain_text("Chi bộ Trường Tiểu học Vũ Lâm")
    r.check(w, "huyen-thay-chi-bo")
    _report(page, "Báo cáo sơ kết Nghị quyết 25-NQ/TU", "Chi bộ đã học tập nghị quyết.", "03-BC/CB")

    listing = f"{district.url}/bao-cao?document={document_id}&kind=preliminary"
    gia_tien = page.locator("tr", has_text="Đảng bộ xã Gia Tiến")
    _until(page, listing, lambda p: gia_tien.get_by_role("link", name="Xem").count() > 0, "the base's report")
    r.check(w, "huyen-bao-cao", phone=True)
    form = page.locator("form", has=page.get_by_role("button", name="Ghi quyết định"))
    _choose(_label(form, "Đơn vị"), "H1B1")
    _label(form, "Quyết định").select_option("accept")
    _label(form, "Ngày quyết định").fill("06/12/2026")
    form.get_by_role("button", name="Ghi quyết định").click()
    expect(page.get_by_role("status")).to_contain_text("Tiếp nhận")
    form = page.locator("form", has=page.get_by_role("button", name="Ghi quyết định"))
    _choose(_label(form, "Đơn vị"), "H1B2")
    _label(form, "Quyết định").select_option("return")
    _label(form, "Ngày quyết định").fill("06/12/2026")
    _label(form, "Lý do").fill("Chưa đánh giá kết quả viết bài thu hoạch của đảng viên")
    _label(form, "Hạn nộp lại").fill("20/12/2026")
    form.get_by_role("button", name="Ghi quyết định").click()
    expect(page.get_by_role("status")).to_contain_text("Trả lại để sửa")
    expect(page.locator("tr", has_text="Chi bộ Trường Tiểu học Vũ Lâm")).to_contain_text("hạn sửa 20/12/2026")
    r.check(w, "huyen-quyet-dinh", phone=True)


# The province: the consolidation, on the page and in the two downloads.


def hub_consolidates(r: Round, hub: Hub, state: dict[str, Any]) -> None:
    w = r.open(state)
    page = w.page
    page.goto(hub.url + "/tong-hop")
    _choose(page.get_by_label("Văn bản"), DOC)
    _label(page, "Sơ kết hay tổng kết").select_option("preliminary")
    page.get_by_role("button", name="Tổng hợp").click()
    page.wait_for_url(re.compile(r"/tong-hop\?"))
    _until(page, page.url, lambda p: "2 phiếu" in p.inner_text("main"), "the base's figures at the province")
    main = page.locator("main")
    # D13: 4,5 then 6,5 is one member with a Trung bình and nothing owed; 8,5 a Khá; both obliged members wrote.
    essays = main.locator("dl", has_text="Xếp loại Trung bình")
    expect(essays).to_contain_text(re.compile(r"Tỷ lệ viết bài — diện bắt buộc\s*100%"))
    for band, count in (("Tốt", 0), ("Khá", 1), ("Trung bình", 1), ("Yếu", 0)):
        expect(essays).to_contain_text(re.compile(rf"Xếp loại {band}\s*{count}(?!\d)"))
    expect(essays).to_contain_text(re.compile(r"Bài Yếu phải viết lại\s*0(?!\d)"))
    expect(main).to_contain_text(re.compile(r"Số hội nghị, buổi học\s*1(?!\d)"))
    # D22: both paper forms, the single choice's rate and the scale's mean with a decimal comma.
    expect(main).to_contain_text("Đã học tập: 2 (100%)")
    expect(main).to_contain_text("bình quân 4,5 điểm")
    expect(main).to_contain_text(re.compile(r"Chỉ tiêu đạt\s*0/1"))  # D15: 91,5 of 95 is not yet met
    r.check(w, "tinh-tong-hop", phone=True)
    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name="Tải bảng tổng hợp (.xlsx)").click()
    with page.expect_download() as docx_download:
        page.get_by_role("link", name="Tải dự thảo báo cáo (.docx)").click()
    book = load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes()), read_only=True)
    base_row = _xlsx_row(book, "H1B1")
    assert (base_row["Bắt buộc: số đảng viên"], base_row["Bắt buộc: đã viết"]) == (2, 2), base_row
    assert (base_row["Bắt buộc: Khá"], base_row["Bắt buộc: Trung bình"], base_row["Bắt buộc: Yếu"]) == (1, 1, 0)
    assert (base_row["Yếu chưa viết lại"], base_row["Đã viết lại"]) == (0, 1), base_row  # D13: counted once
    district_row = _xlsx_row(book, "H1")
    assert (district_row["Buổi học tập"], district_row["Lượt dự"]) == (1, 2), district_row
    docx = Docx(str(docx_download.value.path()))
    text = "\n".join(p.text for p in docx.paragraphs)
    assert "đã viết 2 (100%)" in text
    assert "Khá 1 (50%); Trung bình 1 (50%); Yếu 0 (0%)" in text
    assert "2 phiếu trả lời (đảng viên 2)" in text
    assert "1 hội nghị, buổi học tập, quán triệt 25-NQ/TU với 2/2 lượt" in text


def _xlsx_row(book: Any, code: str) -> dict[str, Any]:
    """The first row whose «Mã» is `code`, keyed by the header above it (the workbook as an office reads it)."""
    for ws in book.worksheets:
        header: tuple[Any, ...] = ()
        for row in ws.iter_rows(values_only=True):
            if row and row[0] == "Mã":
                header = row
            elif header and row and row[0] == code:
                return dict(zip(header, row, strict=False))
    raise AssertionError(f"no row for {code} in the workbook")


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A hub of the round's own: enrolling H1's node makes the hub refuse H1's writes, which other modules make."""
    with serve_hub(tmp_path_factory.mktemp("round-hub"), ACCOUNTS) as running:
        yield running


@pytest.fixture(scope="module")
def accounts(browser: Browser, hub: Hub) -> dict[str, dict[str, Any]]:
    return {username: _sign_in(browser, hub, username) for username in ACCOUNTS}


@pytest.fixture
def district(browser: Browser, hub: Hub, accounts: dict[str, dict[str, Any]], tmp_path: Path) -> Iterator[Node]:
    """The district's node, enrolled with a code the province's admin issued on its page."""
    with node(browser, tmp_path, hub.url, accounts["tinhuy"], "H1", "vanphonghu") as n:
        yield n


@pytest.fixture
def base(browser: Browser, district: Node, tmp_path: Path) -> Iterator[Node]:
    """The commune's node, enrolled under the district's node with a code the district's admin issued there."""
    with node(browser, tmp_path, district.url, district.state, "H1B1", "bithuxa") as n:
        yield n


def test_a_whole_review_round_through_the_pages(
    pages: Round, hub: Hub, accounts: dict[str, dict[str, Any]], district: Node, base: Node
) -> None:
    document_url = hub_enters_the_round(pages, hub, accounts["tinhuy"])
    base_adds_members(pages, base)
    document_id = document_url.rsplit("/", 1)[1]
    base_records_the_round(pages, base, document_id)
    district_decides(pages, district, document_id)
    hub_consolidates(pages, hub, accounts["tinhuy"])
