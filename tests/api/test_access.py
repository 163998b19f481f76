"""D4, D27: every route × every role × a unit in scope and one out of scope; nothing out of scope is read or written."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from shared.db.engine import Database
from tests.api.access_matrix import IN, matrix_failures
from tests.api.access_routes import ROUTES
from tests.domain_harness import Api, Maker, running_api

V = "/api/v1"


def test_the_matrix_covers_every_route_of_the_api() -> None:
    from shared.app import create_app
    from shared.settings import DatabaseSettings, Settings

    app = create_app(Settings(data_dir=Path("."), database=DatabaseSettings(url="sqlite+aiosqlite://")), role="hub")
    served = {
        f"{method} {r.path.removeprefix(V)}".replace("{user_id:uuid}", "{id}")
        for r in app.routes
        if r.path.startswith(V)
        for method in r.methods  # type: ignore[attr-defined]
        if method not in ("OPTIONS", "HEAD")
    }
    served = {_generic(s) for s in served}
    from tests.api.test_access_workflows import WORKFLOW_ROUTES

    every = [*ROUTES, *WORKFLOW_ROUTES]
    # Routes that act on the caller's own sessions (they would end the matrix's shared sessions): tested in
    # tests/security/test_sign_in.py.
    own = {"POST /auth/login", "POST /auth/logout", "POST /auth/logout-all", "POST /auth/password"}
    covered = {_generic(label) for _, label, _ in every} | own
    assert served == covered


def _generic(label: str) -> str:
    import re

    return re.sub(r"\{[^}]+\}", "{id}", label).rstrip("/")


@pytest.fixture
async def api(make_database_url: Any, tmp_path: Path) -> AsyncIterator[Api]:
    db = Database(await make_database_url("sqlite"))
    async with running_api(db, tmp_path, accounts=("TU", "H1")) as running:
        yield running
    await db.dispose()


async def test_d4_d27_every_route_every_role_in_and_out_of_scope(api: Api) -> None:
    failures = await matrix_failures(api, ROUTES)
    assert not failures, "\n".join(failures)


async def test_d27_an_unsigned_request_is_refused_on_every_route(api: Api) -> None:
    mk = Maker(api)
    for _, label, factory in ROUTES:
        method, url, kwargs = await factory(mk, IN)
        response = await api.client.request(method, url, **kwargs)
        assert response.status_code == 401, label
        assert response.json()["code"] == "not_signed_in"
