"""The web UI on a fresh database of each backend: a seeded tree, signed-in sessions per (unit, role) as cookies,
and a valid CSRF token, so each test reads like a person using the pages."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.middleware.csrf import generate_csrf_token

from shared.accounts.service import SESSION_COOKIE
from shared.db.engine import Database
from shared.ui.web import CSRF_COOKIE, instance_secret
from tests.domain_harness import Api, Maker, running_api


@dataclass
class Ui:
    api: Api
    csrf: str

    def cookies(self, who: tuple[str, str] | None, csrf: str | None = None) -> dict[str, str]:
        parts = [f"{CSRF_COOKIE}={csrf or self.csrf}"]
        if who is not None:
            parts.append(f"{SESSION_COOKIE}={self.api.headers[who]['Authorization'][7:]}")
        return {"Cookie": "; ".join(parts)}

    async def get(self, url: str, who: tuple[str, str] | None = ("TU", "admin")) -> httpx.Response:
        return await self.api.client.get(url, headers=self.cookies(who), follow_redirects=False)

    async def page(self, url: str, who: tuple[str, str] = ("TU", "admin")) -> str:
        response = await self.get(url, who)
        assert response.status_code == 200, (url, response.status_code, text_of(response.text))
        return response.text

    async def post(
        self,
        url: str,
        who: tuple[str, str] | None = ("TU", "admin"),
        data: dict[str, Any] | None = None,
        files: dict[str, Any] | None = None,
        *,
        token: str | None = "valid",
    ) -> httpx.Response:
        body = dict(data or {})
        if token is not None:
            body["_csrf_token"] = self.csrf if token == "valid" else token
        return await self.api.client.post(
            url, headers=self.cookies(who), data=body, files=files, follow_redirects=False
        )


def text_of(html: str) -> str:
    """The page's visible text, tags removed and spaces folded (what a person reads)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
async def ui(db: Database, tmp_path: Path) -> AsyncIterator[Ui]:
    async with running_api(db, tmp_path, accounts=("TU", "H1", "H2")) as api:
        yield Ui(api, generate_csrf_token(instance_secret(tmp_path)))


@pytest.fixture
def mk(ui: Ui) -> Maker:
    return Maker(ui.api)
