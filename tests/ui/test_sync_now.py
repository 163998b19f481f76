""" "Đồng bộ ngay" on a node's sync page: one round with a real parent over HTTP, its figures said in Vietnamese, and
a plain message (nothing half-done) when the parent does not answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from litestar.middleware.csrf import generate_csrf_token

from shared.accounts.service import SESSION_COOKIE, create_user, open_session
from shared.documents.records import DOCUMENT
from shared.ui.web import CSRF_COOKIE, instance_secret
from tests.domain_harness import password_hash
from tests.harness import Cluster, Instance
from tests.ui.conftest import text_of


@pytest.fixture
async def cluster(tmp_path: Path, make_database_url) -> AsyncIterator[Cluster]:  # type: ignore[no-untyped-def]
    c = Cluster(tmp_path, make_database_url)
    yield c
    await c.close()


async def _signed_in(node: Instance) -> tuple[dict[str, str], str]:
    """Cookies of an editor at the node, and a CSRF token of that node's secret."""
    async with node.db.write() as conn:
        user = await create_user(
            conn, username="vanphong", unit=node.unit, role="editor", password_hash=password_hash()
        )
        token = await open_session(conn, user)
    csrf = generate_csrf_token(instance_secret(node.settings.data_dir))
    return {"Cookie": f"{CSRF_COOKIE}={csrf}; {SESSION_COOKIE}={token}"}, csrf


async def test_sync_now_brings_the_parents_new_document_and_says_how_many(cluster: Cluster) -> None:
    hub = await cluster.hub("sqlite")
    district = await cluster.node("H1", hub)
    cookies, csrf = await _signed_in(district)
    doc = cluster.document("TU")
    await cluster.write(hub, DOCUMENT, [doc])
    assert await cluster.ids(district, DOCUMENT) == set()

    async with httpx.AsyncClient(base_url=str(district.url), headers=cookies, timeout=60) as web:
        page = text_of((await web.get("/dong-bo")).text)
        assert "Đồng bộ ngay" in page
        done = await web.post("/dong-bo/ngay", data={"_csrf_token": csrf})
        assert done.status_code == 303, text_of(done.text)
        assert await cluster.ids(district, DOCUMENT) == {doc.id}, "the round ran now, not at the loop's next turn"
        page = text_of((await web.get(done.headers["location"])).text)
        assert "Đã đồng bộ xong: gửi lên 0, nhận về 1 bản ghi." in page
        crafted = text_of((await web.get("/dong-bo?gui=Mất hết dữ liệu&nhan=1")).text)
        assert "Mất hết" not in crafted, "figures are numbers only"
        assert "gửi lên 0, nhận về 1 bản ghi" in crafted

        refused = await web.post("/dong-bo/ngay", data={})
        assert refused.status_code == 403, "a form without its CSRF token runs no round"


async def test_sync_now_with_the_parent_down_says_so_plainly(cluster: Cluster) -> None:
    hub = await cluster.hub("sqlite")
    district = await cluster.node("H1", hub)
    cookies, csrf = await _signed_in(district)
    await cluster.stop_serving(hub)

    async with httpx.AsyncClient(base_url=str(district.url), headers=cookies, timeout=60) as web:
        failed = await web.post("/dong-bo/ngay", data={"_csrf_token": csrf})
    assert failed.status_code == 200
    text = text_of(failed.text)
    assert "Chưa đồng bộ được:" in text, text
    assert "Traceback" not in failed.text
