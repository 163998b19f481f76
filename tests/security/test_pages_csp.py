"""Every HTML page a hub serves, rendered (issue 15 item 3): its CSP allows no inline script, and the page itself
carries no inline <script> body and no on* event attribute (either would be blocked by the CSP, or be an XSS sink)."""

from __future__ import annotations

import re

from tests.ui.conftest import Ui

_PARAM = re.compile(r"\{(\w+):(\w+)\}")
_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)
_EVENT = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)


def _get_routes(ui: Ui) -> list[str]:
    """Every GET route of the UI, parameters filled with a real unit's id (a page) or a made-up one (a 404 page)."""
    unit = str(ui.api.id("H1B1"))
    paths = set()
    for route in ui.api.client.app.routes:
        if route.path.startswith(("/api", "/sync", "/static", "/schema", "/health")):
            continue
        if "GET" in getattr(route, "methods", ()):
            paths.add(_PARAM.sub(lambda m: unit if m.group(2) == "uuid" else "1", route.path))
    return sorted(paths)


def _script_src(csp: str) -> str:
    directives = {d.split()[0]: d for d in (p.strip() for p in csp.split(";")) if d}
    return directives.get("script-src", directives.get("default-src", ""))


async def test_every_page_has_a_csp_without_unsafe_inline_and_no_inline_script(ui: Ui) -> None:
    routes = _get_routes(ui)
    assert {"/", "/dang-nhap", "/dang-vien"} <= set(routes), routes
    rendered = 0
    for who in (("TU", "admin"), ("H1", "editor"), None):
        for path in routes:
            response = await ui.get(path, who)
            where = (path, who, response.status_code)
            assert response.status_code < 500, where
            csp = response.headers["content-security-policy"]
            script_src = _script_src(csp)
            assert script_src, where
            assert "'unsafe-inline'" not in script_src, where
            assert "'unsafe-eval'" not in script_src, where
            if not response.headers.get("content-type", "").startswith("text/html"):
                continue
            rendered += 1
            html = response.text
            for attrs, body in _SCRIPT.findall(html):
                assert "src=" in attrs, (where, attrs)
                assert not body.strip(), (where, body[:200])
            assert not _EVENT.search(html), (where, _EVENT.search(html))
            assert "javascript:" not in html.lower(), where
    assert rendered > len(routes), "too few pages were rendered as HTML"
