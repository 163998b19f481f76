"""Real-browser tests: a real hub process on SQLite per xdist worker, Debian's Chromium driven by Playwright.

Fixtures: `hub` (the running hub: url, data folder, unit codes), `accounts` (username → signed-in storage state),
`browser` (Chromium from /usr/bin/chromium, never downloaded), `open_page` (a page signed in as an account at a
width, recording console errors and failed responses). Helper: `check_page(page)` asserts what every page must meet;
`screenshot(page)` writes one to test-artifacts/browser/ (with NQSYNC_BROWSER_SHOTS=1, every checked page is saved).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.harness import NQSYNC, clean_env, serving

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
FIRST_PASSWORD = "mat khau tam thoi cap lan dau"
PASSWORD = "chi bo hop ngay 5 hang thang"
DESKTOP = 1280
PHONE = 375
UNITS_CSV = """ma,ten,ma_cap_tren,cap,loai
TU,Tỉnh ủy Hòa Bình Mẫu,,Tỉnh,Cấp ủy
H1,Huyện ủy Lạc Sơn Mẫu,TU,Huyện,Cấp ủy
H1B1,Đảng bộ xã Gia Tiến,H1,Cơ sở,Đảng bộ cơ sở
H1B2,Chi bộ Trường Tiểu học Vũ Lâm,H1,Cơ sở,Chi bộ cơ sở
"""
# username → (unit code, role): a provincial admin, a district admin, a base organisation's editor.
ACCOUNTS: dict[str, tuple[str, str]] = {
    "tinhuy": ("TU", "admin"),
    "huyenuy": ("H1", "admin"),
    "giatien": ("H1B1", "editor"),
}

if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} is missing: install Debian's chromium package (scripts/test does it when run as root)",
        allow_module_level=True,
    )

from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402
from playwright.sync_api import Error as PlaywrightError  # noqa: E402


@dataclass
class Hub:
    url: str
    data: Path


@dataclass
class Watched:
    """A page and what went wrong while it was open (console errors, 4xx/5xx responses)."""

    page: Page
    problems: list[str] = field(default_factory=list)


def _env() -> dict[str, str]:
    return clean_env(COLUMNS="200")


def _nqsync(*args: str, stdin: str | None = None) -> str:
    done = subprocess.run([NQSYNC, *args], input=stdin, capture_output=True, text=True, timeout=120, env=_env())
    assert done.returncode == 0, f"nqsync {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@contextmanager
def serve_hub(root: Path, accounts: dict[str, tuple[str, str]], env: dict[str, str] | None = None) -> Iterator[Hub]:
    """`nqsync server init/user-add/serve` as an office installs it, on SQLite in `root`; `env` adds settings."""
    units = root / "donvi.csv"
    units.write_text(UNITS_CSV, encoding="utf-8")
    data = root / "hub"
    _nqsync("server", "init", "--data", str(data), "--units", str(units))
    for username, (unit, role) in accounts.items():
        _nqsync(
            "server", "user-add", "--data", str(data), "--unit", unit, "--role", role,
            "--username", username, "--password-stdin", stdin=FIRST_PASSWORD + "\n",
        )  # fmt: skip
    command = ("server", "serve", "--data", str(data))
    with serving(*command, env=_env() | (env or {}), log=root / "serve.log", timeout=30) as served:
        yield Hub(served.url, data)


@pytest.fixture(scope="session")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """The hub of the browser tests, with ACCOUNTS."""
    with serve_hub(tmp_path_factory.mktemp("browser-hub"), ACCOUNTS) as running:
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        # The browser's own words (the file picker's button) in Vietnamese, as on an office's computer; needs
        # Debian's chromium-l10n (scripts/test installs it), else they stay English.
        launched = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--lang=vi"], env={**os.environ, "LANGUAGE": "vi"}
        )
        yield launched
        launched.close()


def _sign_in(browser: Browser, hub: Hub, username: str) -> dict[str, Any]:
    """The first sign-in as a new account's owner does it: the given password, then their own (required)."""
    context = browser.new_context()
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(hub.url + "/dang-nhap")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(FIRST_PASSWORD)  # the only such label here
    page.locator("main button[type=submit]").click()
    page.wait_for_url(re.compile("/doi-mat-khau"))
    page.get_by_label("Mật khẩu hiện tại").fill(FIRST_PASSWORD)
    page.get_by_label(re.compile(r"^Mật khẩu mới\W*$")).fill(PASSWORD)
    page.get_by_label("Nhập lại mật khẩu mới").fill(PASSWORD)
    page.get_by_role("button", name="Đổi mật khẩu").click()
    page.wait_for_url(lambda url: "/doi-mat-khau" not in url and "/dang-nhap" not in url)
    state: dict[str, Any] = dict(context.storage_state())
    context.close()
    return state


@pytest.fixture(scope="session")
def accounts(browser: Browser, hub: Hub) -> dict[str, dict[str, Any]]:
    """Each account signed in once (first sign-in changes the password); tests reuse the session cookie."""
    return {username: _sign_in(browser, hub, username) for username in ACCOUNTS}


def watch(browser: Browser, state: dict[str, Any] | None, width: int) -> Watched:
    """A new page in its own context (signed in with `state`, or signed out) whose console errors and 4xx/5xx
    responses are recorded; close it with `watched.page.context.close()`."""
    context = browser.new_context(storage_state=state, viewport={"width": width, "height": 900}, locale="vi-VN")  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    watched = Watched(context.new_page())
    watched.page.on("console", lambda m: watched.problems.append(f"console: {m.text}") if m.type == "error" else None)
    watched.page.on(
        "response", lambda r: watched.problems.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None
    )
    return watched


@pytest.fixture
def open_page(browser: Browser, accounts: dict[str, dict[str, Any]]) -> Iterator[Callable[[str | None, int], Watched]]:
    """`open_page(username, width)`: a new page signed in as `username` (None: signed out) whose console errors and
    4xx/5xx responses are recorded."""
    opened: list[Watched] = []

    def make(username: str | None, width: int) -> Watched:
        opened.append(watch(browser, accounts[username] if username else None, width))
        return opened[-1]

    yield make
    for watched in opened:
        watched.page.context.close()


_AXE = Axe()


def _artifact_name(page: Page) -> str:
    width = page.viewport_size["width"] if page.viewport_size else 0
    slug = re.sub(r"[^a-z0-9]+", "-", page.url.split("//", 1)[-1].split("/", 1)[-1].lower()).strip("-") or "home"
    return f"{slug[:60]}-{width}.png"


def screenshot(page: Page, name: str | None = None) -> Path:
    """A full-page screenshot in test-artifacts/browser/ (gitignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / (name or _artifact_name(page))
    page.screenshot(path=str(path), full_page=True)
    return path


def _axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's findings on the page as it stands once loaded.

    A click on a GET form's button starts a navigation that Playwright does not wait for; axe run in between finds
    no document (CI, stop 23). Wait for the load, and run again if the page was replaced under the run."""
    for attempt in range(3):
        page.wait_for_load_state("load")
        try:
            return list(_AXE.run(page).response["violations"])
        except PlaywrightError as error:
            replaced = "documentElement" in str(error) or "context was destroyed" in str(error)
            if not replaced or attempt == 2:
                raise
    raise AssertionError("unreachable")


def check_page(watched: Watched) -> None:
    """No console error, no 4xx/5xx, no axe-core violation, no sideways scroll at phone width,
    no short list of choices partly hidden in a scrolling box."""
    page = watched.page
    failures = list(watched.problems)
    violations = _axe_violations(page)
    # Every impact, not only serious and critical: content outside landmarks and landmarks sharing one name
    # spoil a screen reader's map of the page too (issue 12).
    for v in violations:
        targets = "; ".join(", ".join(n["target"]) for n in v["nodes"][:5])
        failures.append(f"axe {v['id']} ({v['impact']}): {v['help']} — {targets}")
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if widths[0] > widths[1]:
        # The culprits: elements past the right edge none of whose children are (outside `.scroll` boxes).
        wide = page.evaluate(
            """() => { const out = e => e.getBoundingClientRect().right > window.innerWidth + 1;
                 return [...document.querySelectorAll('body *')]
                   .filter(e => out(e) && !e.closest('.scroll') && ![...e.children].some(out))
                   .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                     + (e.className ? '.' + e.className : '')
                     + ' ' + Math.round(e.getBoundingClientRect().right) + 'px'); }"""
        )
        failures.append(f"page is {widths[0]} px wide in a {widths[1]} px window; widest: {wide}")
    # A short list of choices (a 1–5 scale) must not hide some of them in a box that scrolls (issue 12).
    hidden = page.evaluate(
        """() => [...document.querySelectorAll('fieldset.choices .box')]
             .filter(b => b.scrollHeight > b.clientHeight + 1 && b.querySelectorAll('label').length <= 10)
             .map(b => b.closest('fieldset').querySelector('legend').innerText.slice(0, 60))"""
    )
    if hidden:
        failures.append(f"choices hidden in a scrolling box: {hidden}")
    if os.environ.get("NQSYNC_BROWSER_SHOTS"):  # to look at every page, not only the failing ones
        screenshot(page)
    if failures:
        shot = screenshot(page)
        pytest.fail(f"{page.url} at {widths[1]} px ({shot}):\n  " + "\n  ".join(failures), pytrace=False)
