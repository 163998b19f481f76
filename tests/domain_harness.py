"""A unit tree with armed forces and cells, accounts per unit and role, and an API client, for domain tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import insert

from shared.accounts.service import create_user, hash_password, open_session
from shared.app import create_app
from shared.db.engine import Database
from shared.domain.tree import Unit, UnitKind, Version
from shared.ids import new_id
from shared.settings import AuthSettings, DatabaseSettings, Settings
from shared.sync.tables import Identity
from shared.units.records import store_units

DAY = date(2020, 1, 1)
# code: (parent, kind, armed forces)
TREE: dict[str, tuple[str | None, UnitKind, bool]] = {
    "TU": (None, UnitKind.COMMITTEE, False),
    "H1": ("TU", UnitKind.COMMITTEE, False),
    "H2": ("TU", UnitKind.COMMITTEE, False),
    "QS": ("TU", UnitKind.COMMITTEE, True),
    "H1B1": ("H1", UnitKind.BASE_ORGANISATION, False),
    "H1B2": ("H1", UnitKind.BASE_ORGANISATION, False),
    "H2B1": ("H2", UnitKind.BASE_ORGANISATION, False),
    "QSB1": ("QS", UnitKind.BASE_ORGANISATION, False),
    "H1B1C1": ("H1B1", UnitKind.CELL, False),
}
ROLES = ("viewer", "editor", "admin")
PASSWORD = "mat-khau-thu-nghiem"


@cache
def password_hash() -> str:
    """One argon2 hash per test session: hashing is deliberately slow."""
    return hash_password(PASSWORD)


def make_units(tree: dict[str, tuple[str | None, UnitKind, bool]] = TREE) -> dict[str, Unit]:
    ids = {code: new_id() for code in tree}
    out = {}
    for code, (parent, kind, armed) in tree.items():
        version = Version(DAY, code, f"Đơn vị {code}", ids[parent] if parent else None, kind.value, kind)
        out[code] = Unit(id=ids[code], armed_forces=armed, valid_from=DAY, valid_to=None, versions=(version,))
    return out


async def seed(db: Database, units: dict[str, Unit], *, role: str = "hub", unit: uuid.UUID | None = None) -> None:
    async with db.write() as conn:
        await store_units(conn, list(units.values()))
        await conn.execute(insert(Identity).values(id=1, role=role, unit=unit, created_at=datetime.now(UTC)))


async def account(db: Database, unit: uuid.UUID, role: str, username: str | None = None) -> dict[str, str]:
    """Create an account and sign it in; returns the request headers that carry its session."""
    async with db.write() as conn:
        user = await create_user(
            conn,
            username=username or f"u-{uuid.uuid4().hex[:10]}",
            unit=unit,
            role=role,
            password_hash=password_hash(),
        )
        token = await open_session(conn, user)
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Api:
    """A running app on a seeded database, with a signed-in account per (unit code, role)."""

    client: AsyncTestClient[Any]
    db: Database
    units: dict[str, Unit]
    headers: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    def id(self, code: str) -> uuid.UUID:
        return self.units[code].id

    def as_(self, code: str, role: str = "editor") -> dict[str, str]:
        return self.headers[(code, role)]

    async def call(self, method: str, url: str, who: tuple[str, str] = ("TU", "admin"), **kw: Any) -> Any:
        return await self.client.request(method, url, headers=self.headers[who], **kw)

    async def ok(self, method: str, url: str, who: tuple[str, str] = ("TU", "admin"), **kw: Any) -> Any:
        response = await self.call(method, url, who, **kw)
        assert response.status_code < 300, (method, url, response.status_code, response.text)
        return response.json() if response.content else None


@asynccontextmanager
async def running_api(
    db: Database,
    tmp: Path,
    *,
    accounts: tuple[str, ...] = ("TU", "H1", "H2", "QS", "H1B1", "H2B1"),
    auth: AuthSettings | None = None,
) -> AsyncIterator[Api]:
    units = make_units()
    await seed(db, units)
    settings = Settings(data_dir=tmp, database=DatabaseSettings(url=db.url), auth=auth or AuthSettings())
    app = create_app(settings, role="hub")
    async with AsyncTestClient(app=app) as client:
        api = Api(client, db, units)
        for code in accounts:
            for role in ROLES:
                api.headers[(code, role)] = await account(db, units[code].id, role)
        yield api


def xlsx(rows: list[list[Any]]) -> bytes:
    """A workbook whose first sheet holds `rows` (the first is the header)."""
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


class Maker:
    """Creates records through the API as the province's admin (the hub writes for units without their own node)."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.n = 0

    def next(self) -> int:
        self.n += 1
        return self.n

    async def doc(self, owner: str = "TU", **kw: Any) -> dict[str, Any]:
        body = {
            "number": f"{self.next()}-NQ/TU",
            "title": "Về tăng cường học tập",
            "signed_on": "2021-03-01",
            "lead_agency": "Ban Tuyên giáo",
            "unit": str(self.api.id(owner)),
            **kw,
        }
        return dict(await self.api.ok("POST", "/api/v1/documents", json=body))

    async def member(self, owner: str, **kw: Any) -> dict[str, Any]:
        body = {"full_name": f"Đảng viên {self.next()}", "birth_year": 1980, "unit": str(self.api.id(owner)), **kw}
        return dict(await self.api.ok("POST", "/api/v1/members", json=body))

    async def session(self, owner: str, doc: dict[str, Any]) -> dict[str, Any]:
        body = {
            "title": "Hội nghị học tập",
            "documents": [doc["id"]],
            "held_on": "2021-04-01",
            "form": "in_person",
            "invited": 100,
            "attended": 95,
            "unit": str(self.api.id(owner)),
        }
        return dict(await self.api.ok("POST", "/api/v1/study-sessions", json=body))

    async def propaganda(self, owner: str) -> dict[str, Any]:
        body = {
            "channel": "loudspeaker",
            "period_start": "2021-04-01",
            "period_end": "2021-04-30",
            "count": 12,
            "reached": 5000,
            "unit": str(self.api.id(owner)),
        }
        return dict(await self.api.ok("POST", "/api/v1/propaganda", json=body))

    async def template(self, owner: str, doc: dict[str, Any]) -> dict[str, Any]:
        body = {
            "document": doc["id"],
            "title": "Câu hỏi thu hoạch",
            "questions": ["Những điểm mới?", "Liên hệ trách nhiệm bản thân?"],
            "issued_on": "2021-03-15",
            "unit": str(self.api.id(owner)),
        }
        return dict(await self.api.ok("POST", "/api/v1/essay-templates", json=body))

    async def essay(self, grader: str, member: dict[str, Any], doc: dict[str, Any], score: str = "8,5") -> Any:
        body = {
            "member": member["id"],
            "document": doc["id"],
            "score": score,
            "graded_on": "2021-05-01",
            "unit": str(self.api.id(grader)),
        }
        return await self.api.ok("POST", "/api/v1/essays", json=body)

    async def override(self, owner: str, doc: dict[str, Any], kind: str = "preliminary") -> dict[str, Any]:
        body = {
            "document": doc["id"],
            "kind": kind,
            "due": "2024-06-01",
            "reason": "Theo chỉ đạo của Tỉnh ủy",
            "instructing_document": "12-CV/TU",
            "unit": str(self.api.id(owner)),
        }
        return dict(await self.api.ok("POST", "/api/v1/review-overrides", json=body))

    async def project(self, owner: str, doc: dict[str, Any]) -> dict[str, Any]:
        body = {
            "document": doc["id"],
            "kind": "final",
            "title": "Đề án tổng kết",
            "proposed_on": "2025-01-10",
            "unit": str(self.api.id(owner)),
        }
        return dict(await self.api.ok("POST", "/api/v1/review-projects", json=body))

    async def report(self, owner: str, doc: dict[str, Any], **kw: Any) -> dict[str, Any]:
        body = {
            "document": doc["id"],
            "kind": "preliminary",
            "held_on": "2024-02-20",
            "unit": str(self.api.id(owner)),
            "waived_reason": "Thử nghiệm",
            **kw,
        }
        return dict(await self.api.ok("POST", "/api/v1/review-reports", json=body))

    async def plan(self, owner: str) -> dict[str, Any]:
        body = {
            "plan_kind": "year",
            "number": f"{self.next()}-KH/TU",
            "issued_on": "2023-12-20",
            "year": 2024,
            "unit": str(self.api.id(owner)),
        }
        return dict(await self.api.ok("POST", "/api/v1/review-plans", json=body))

    async def user(self, unit: str) -> dict[str, Any]:
        body = {
            "username": f"nv{self.next()}",
            "password": "mot-mat-khau-dai",
            "role": "viewer",
            "unit": str(self.api.id(unit)),
        }
        return dict(await self.api.ok("POST", "/api/v1/users", json=body))
