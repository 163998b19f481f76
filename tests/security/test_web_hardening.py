"""Web hardening (issue 15 item 3): CSRF on every form, security headers on every response, cookies marked for
HTTPS, uploads bounded in bytes and rows, zip bombs refused before openpyxl parses them."""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from typing import Any

from sqlalchemy import func, select

from shared.accounts.records import SessionRow, SignInAttemptRow, UserRow
from shared.core.xlsx import MAX_ROWS, MAX_UPLOAD_BYTES
from shared.db.engine import Database
from shared.serving import CSP
from shared.sync.tables import FeedCounter
from shared.ui.web import TEMPLATES
from tests.domain_harness import PASSWORD, account, xlsx
from tests.ui.conftest import Ui, text_of

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_PARAM = re.compile(r"\{(\w+):(\w+)\}")


async def _state(db: Database) -> tuple[int, ...]:
    """The feed head and the local tables a form could change: equal before and after means nothing was written."""
    async with db.read() as conn:
        head = int((await conn.execute(select(FeedCounter.last))).scalar_one())
        counts = [
            int((await conn.execute(select(func.count()).select_from(t))).scalar_one())
            for t in (UserRow, SessionRow, SignInAttemptRow)
        ]
        hashes = (await conn.execute(select(func.count(UserRow.id.distinct())).where(UserRow.active))).scalar_one()
    return head, *counts, int(hashes)


def _ui_posts(ui: Ui) -> list[str]:
    app = ui.api.client.app
    paths = set()
    for route in app.routes:
        if route.path.startswith(("/api", "/sync", "/static", "/schema")):
            continue
        if "POST" in getattr(route, "methods", ()):
            paths.add(_PARAM.sub(lambda m: str(uuid.uuid4()) if m.group(2) == "uuid" else "1", route.path))
    return sorted(paths)


async def test_csrf_every_post_route_of_the_ui_refuses_a_post_without_the_token(ui: Ui) -> None:
    posts = _ui_posts(ui)
    assert {"/dang-nhap", "/dang-xuat", "/doi-mat-khau", "/van-ban/moi", "/dang-vien/nhap"} <= set(posts)
    before = await _state(ui.api.db)
    for path in posts:
        body = {"username": "x", "password": PASSWORD, "current_password": PASSWORD, "new_password": "a" * 12}
        response = await ui.post(path, ("TU", "admin"), body, token=None)
        assert response.status_code == 403, (path, response.status_code)
        assert "Biểu mẫu đã hết hiệu lực" in text_of(response.text), path
    assert await _state(ui.api.db) == before, "a refused post changed something"


def _assert_hardened(response: Any, https: bool) -> None:
    headers = response.headers
    where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
    assert headers["content-security-policy"] == CSP, where
    assert "frame-ancestors 'none'" in CSP
    assert "unsafe-inline" not in CSP
    assert headers["x-content-type-options"] == "nosniff", where
    assert headers["referrer-policy"] == "same-origin", where
    assert headers["x-frame-options"] == "DENY", where
    assert ("strict-transport-security" in headers) is https, where
    for cookie in headers.get_list("set-cookie"):
        assert ("Secure" in cookie) is https, (where, cookie)
        assert "HttpOnly" in cookie, (where, cookie)
        assert "SameSite=lax" in cookie, (where, cookie)


async def test_security_headers_on_every_kind_of_response_and_hsts_only_over_https(ui: Ui) -> None:
    api = ui.api
    client = api.client
    session = api.headers[("TU", "admin")]
    for base, https in (("", False), ("https://nqsync.test", True)):
        client.cookies.clear()
        answers = [
            await client.get(f"{base}/dang-nhap"),  # a page, setting the CSRF cookie
            await client.get(f"{base}/", follow_redirects=False),  # a redirect to sign in
            await client.get(f"{base}/api/v1/auth/me"),  # an API refusal
            await client.get(f"{base}/api/v1/auth/me", headers=session),
            await client.get(f"{base}/khong-co-trang-nay"),  # no such route
            await client.get(f"{base}/static/site.css"),
            await client.get(f"{base}/health"),
            await client.post(f"{base}/api/v1/auth/login", json={"username": "khong-co", "password": "x" * 12}),
        ]
        await account(api.db, api.id("TU"), "editor", username=f"https-{https}")
        answers.append(
            await client.post(f"{base}/api/v1/auth/login", json={"username": f"https-{https}", "password": PASSWORD})
        )
        assert answers[-1].status_code == 200
        assert answers[-1].headers.get_list("set-cookie")
        assert answers[0].headers.get_list("set-cookie")
        for response in answers:
            _assert_hardened(response, https)
        assert answers[0].headers["cache-control"] == "no-store"
    client.cookies.clear()


def test_templates_have_no_inline_script_or_style() -> None:
    """The CSP forbids inline script and style: a template carrying one would break under it."""
    for template in TEMPLATES.rglob("*.html"):
        html = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag, (template.name, tag)
        assert not re.search(r"<script\b[^>]*>\s*(?!</script>)\S", html), template.name  # a body, not </script>
        assert not re.search(r"\son[a-z]+\s*=", html), template.name
        assert not re.search(r"\sstyle\s*=", html), template.name
        assert "<style" not in html, template.name
        assert "javascript:" not in html, template.name


def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


async def _import(ui: Ui, content: bytes) -> Any:
    return await ui.api.client.post(
        "/api/v1/members/import",
        headers=ui.api.headers[("TU", "admin")],
        params={"unit": str(ui.api.id("H1B1"))},
        files={"data": ("ds.xlsx", content, XLSX)},
    )


async def test_uploads_bounded_in_bytes_and_rows_and_zip_bombs_refused(ui: Ui) -> None:
    before = await _state(ui.api.db)
    big = await _import(ui, b"PK" + b"\0" * (MAX_UPLOAD_BYTES + 10))
    assert big.status_code == 413
    assert big.json()["code"] == "import.too_large"
    assert "quá giới hạn 5 MB" in big.json()["message"]
    # 20 MB of one repeated byte packs into a few kilobytes: refused on its ratio before anything is unpacked.
    bomb = _zip({"[Content_Types].xml": b"<x/>", "xl/worksheets/sheet1.xml": b"0" * (20 * 1024 * 1024)})
    assert len(bomb) < 100_000
    refused = await _import(ui, bomb)
    assert refused.status_code == 413
    assert refused.json()["code"] == "import.zip_bomb"
    assert "giải nén lớn bất thường" in refused.json()["message"]
    # Many parts that each look reasonable but add up past the limit are refused on their declared total.
    noise = bytes(range(256)) * 4096  # 1 MiB that does not compress much
    many = _zip({f"xl/media/p{i}.bin": noise[i:] + noise[:i] for i in range(70)})
    assert len(many) < MAX_UPLOAD_BYTES * 20
    if len(many) <= MAX_UPLOAD_BYTES:
        assert (await _import(ui, many)).json()["code"] == "import.zip_bomb"
    rows = xlsx([["Họ và tên", "Năm sinh"], *[[f"Người {n}", 1980] for n in range(MAX_ROWS + 1)]])
    too_many = await _import(ui, rows)
    assert too_many.status_code == 413
    assert "20.000 dòng" in too_many.json()["message"]
    # The page shows the same message next to the file field.
    page = await ui.post(
        f"/dang-vien/nhap?unit={ui.api.id('H1B1')}", ("TU", "admin"), files={"file": ("ds.xlsx", bomb, XLSX)}
    )
    assert "giải nén lớn bất thường" in text_of(page.text)
    assert await _state(ui.api.db) == before
