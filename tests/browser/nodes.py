"""Real node processes for the browser tests: enrolled with a code issued on the parent's page, then
`nqsync node init / user-add / serve` as an installer does at a district or a commune office."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, expect

from tests.browser.conftest import FIRST_PASSWORD, Hub, _nqsync, _sign_in
from tests.harness import serving

INTERVAL = "1"
"""Seconds between a node's sync rounds: the pages have no «sync now» button, so the nodes sync on their own, often."""


@dataclass
class Node:
    url: str
    data: Path
    code: str
    state: dict[str, Any]
    """The signed-in storage state of the node's own admin account."""


def issue_code(browser: Browser, parent_url: str, state: dict[str, Any], unit_code: str) -> str:
    """The parent's admin issues a one-time enrolment code on «Nút cấp dưới» and copies it."""
    context = browser.new_context(storage_state=state)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(parent_url + "/nut-cap-duoi")
    page.get_by_label(re.compile("^Mã đơn vị cấp dưới")).fill(unit_code)
    page.get_by_label(re.compile(r"^Thời hạn \(giờ\)")).fill("72")
    page.get_by_role("button", name="Cấp mã").click()
    box = page.locator("#issued-code")
    expect(box).to_be_visible()
    code = box.input_value()
    context.close()
    assert code
    return code


@contextmanager
def node(
    browser: Browser, root: Path, parent_url: str, parent_state: dict[str, Any], unit_code: str, username: str
) -> Iterator[Node]:
    """A node for `unit_code` enrolled under `parent_url`, serving, with its admin `username` signed in."""
    data = root / unit_code
    code = issue_code(browser, parent_url, parent_state, unit_code)
    _nqsync("node", "init", "--data", str(data), "--parent", parent_url, "--code", code, "--label", f"máy {unit_code}")
    _nqsync(
        "node", "user-add", "--data", str(data), "--unit", unit_code, "--role", "admin",
        "--username", username, "--password-stdin", stdin=FIRST_PASSWORD + "\n",
    )  # fmt: skip
    with serving(
        "node", "serve", "--data", str(data), "--interval", INTERVAL, log=root / f"{unit_code}.log", timeout=30
    ) as served:
        yield Node(served.url, data, unit_code, _sign_in(browser, Hub(served.url, data), username))
