"""What every refusal of the API must meet: the field and the rule named, Vietnamese with English beside it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from shared.sync.tables import FeedCounter
from tests.domain_harness import Api


def check_refusal(response: Any, status: int, field: str, rule: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = dict(response.json())
    assert (body["field"], body["rule"]) == (field, rule), body
    assert body["message"]
    assert body["message_en"]
    assert body["message"] != body["message_en"]
    return body


async def row_count(api: Api, table: Any) -> int:
    async with api.db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def feed_head(api: Api) -> int:
    async with api.db.read() as conn:
        return int((await conn.execute(select(FeedCounter.last))).scalar_one())


async def refused_unchanged(
    api: Api, method: str, url: str, status: int, field: str, rule: str, **kw: Any
) -> dict[str, Any]:
    """Send a request that must be refused naming `field` and `rule`, and check nothing was written."""
    who = kw.pop("who", ("TU", "admin"))
    before = await feed_head(api)
    response = await api.call(method, url, who, **kw)
    assert response.status_code == status, (url, kw, response.text)
    body = check_refusal(response, status, field, rule)
    assert await feed_head(api) == before, "a refusal changes nothing"
    return body
