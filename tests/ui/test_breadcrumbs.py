"""Every page below a menu page says where it sits (issue 12, «a look that earns trust»): a breadcrumb trail whose
first step is a menu page and whose links stay on the unit viewed (D4). The page routes come from the app, so a new
page without breadcrumbs fails here until it has them (or is exempted below with its reason)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from shared.app import create_app
from shared.settings import DatabaseSettings, Settings
from shared.ui.web import ADMIN_NAV, NAV
from tests.ui.conftest import Ui
from tests.workflow_harness import FlowMaker

MENU = {href for href, _ in NAV + ADMIN_NAV}
# GET routes that are not pages a person reaches from the menu, each with why it has no breadcrumbs.
EXEMPT = {
    "/dang-nhap": "the sign-in page: nobody is signed in, there is no menu to sit under",
    "/doi-mat-khau": "the account's own page, linked from the header of every page, not from a menu page",
    "/health": "a JSON answer for monitoring, not a page",
}
WHO = ("H1", "admin")


def _page_routes() -> set[str]:
    app = create_app(Settings(data_dir=Path("."), database=DatabaseSettings(url="sqlite+aiosqlite://")), role="hub")
    return {
        r.path
        for r in app.routes
        if "GET" in getattr(r, "methods", ())
        and not r.path.startswith(("/api/", "/static", "/schema"))
        and not r.path.endswith(".xlsx")
    }


async def _urls(ui: Ui) -> dict[str, str]:
    """One URL for each page route with path parameters, on records H1 may open."""
    mk = FlowMaker(ui.api)
    doc = await mk.doc("TU")
    member = await mk.member("H1B1", full_name="Nguyễn Văn An", birth_year=1980)
    body: dict[str, Any] = {"member": member["id"], "document": doc["id"], "score": "4,5", "graded_on": "2021-05-05"}
    essay = await ui.api.ok("POST", "/api/v1/essays", who=("H1", "editor"), json={**body, "unit": str(ui.api.id("H1"))})
    session = await mk.session("H1", doc)
    return {
        "/bai-thu-hoach/{essay_id:uuid}/sua": f"/bai-thu-hoach/{essay['id']}/sua",
        "/bao-cao/{draft_id:uuid}": f"/bao-cao/{(await mk.draft('H1', doc))['id']}",
        "/chuong-trinh/{programme_id:uuid}": f"/chuong-trinh/{(await mk.programme('H1', doc))['id']}",
        "/dang-vien/{member_id:uuid}": f"/dang-vien/{member['id']}",
        "/hoc-tap/{slug:str}/{record_id:uuid}": f"/hoc-tap/buoi-hoc/{session['id']}",
        "/khao-sat/{questionnaire_id:uuid}": f"/khao-sat/{(await mk.questionnaire('H1'))['id']}",
        "/lich-so-ket/de-an/{project_id:uuid}": f"/lich-so-ket/de-an/{(await mk.project('H1', doc))['id']}",
        "/lich-so-ket/ke-hoach/{plan_id:uuid}": f"/lich-so-ket/ke-hoach/{(await mk.plan('H1'))['id']}",
        "/lich-so-ket/van-ban/{doc_id:uuid}": f"/lich-so-ket/van-ban/{doc['id']}",
        "/van-ban/{doc_id:uuid}": f"/van-ban/{doc['id']}",
        "/van-ban/{doc_id:uuid}/sua": f"/van-ban/{doc['id']}/sua",
    }


def _trail(html: str) -> list[str]:
    """The hrefs of the breadcrumb links, or [] when the page has no breadcrumbs."""
    found = re.search(r'<nav class="breadcrumbs" aria-label="Vị trí">(.*?)</nav>', html, re.S)
    return re.findall(r'href="([^"]+)"', found.group(1)) if found else []


async def test_every_page_below_a_menu_page_has_breadcrumbs_that_start_at_the_menu(ui: Ui) -> None:
    routes = _page_routes() - MENU - set(EXEMPT)
    urls = await _urls(ui)
    unmapped = sorted(r for r in routes if "{" in r and r not in urls)
    assert not unmapped, f"page routes with parameters and no URL to open them here: {unmapped}"
    stale = sorted((set(urls) | set(EXEMPT)) - _page_routes())
    assert not stale, f"routes named here that the UI no longer serves: {stale}"
    without = []
    for route in sorted(routes):
        url = urls.get(route, route)
        trail = _trail(await ui.page(url, WHO))
        if not trail or trail[0].split("?")[0] not in MENU:
            without.append(url)
    assert not without, f"pages without breadcrumbs from a menu page: {without}"


async def test_d4_breadcrumbs_stay_on_the_unit_viewed(ui: Ui) -> None:
    base = ui.api.id("H1B1")
    urls = await _urls(ui)
    for url in (urls["/dang-vien/{member_id:uuid}"], urls["/bai-thu-hoach/{essay_id:uuid}/sua"], "/lich-so-ket/de-an"):
        trail = _trail(await ui.page(f"{url}?unit={base}", WHO))
        assert trail, url
        assert all(f"unit={base}" in href for href in trail), (url, trail)
    # One's own unit: no unit in the links.
    assert all("unit=" not in href for href in _trail(await ui.page("/lich-so-ket/de-an", WHO)))
