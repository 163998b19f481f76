"""The hub's and a node's API fuzzed with schemathesis (issue 15 item 4): signed in as an admin, against a real
`nqsync server serve` / `nqsync node serve`, bounded and seeded (derandomized) for CI. No answer may be a 5xx,
and every answer must match its documented schema.

Run it longer: NQSYNC_FUZZ_EXAMPLES=200 uv run --no-sync pytest -n 0 tests/security/test_fuzz.py
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from shared.accounts.service import create_user, open_session
from shared.db.engine import Database
from shared.db.migrate import upgrade
from shared.settings import sqlite_url
from tests.domain_harness import make_units, password_hash, seed
from tests.harness import serving

EXAMPLES = int(os.environ.get("NQSYNC_FUZZ_EXAMPLES", "3"))


@pytest.fixture(scope="module", params=["server", "node"])
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The hub, or a district's node, on SQLite with the test tree and a signed-in admin: (url, bearer token)."""
    role: str = request.param
    data = tmp_path_factory.mktemp(f"fuzz{role}")

    async def prepare() -> str:
        db = Database(sqlite_url(data / "nqsync.sqlite3"))
        await upgrade(db)
        units = make_units()
        top = units["TU" if role == "server" else "H1"].id
        await seed(db, units, role="hub" if role == "server" else "node", unit=None if role == "server" else top)
        async with db.write() as conn:
            user = await create_user(conn, username="fuzz", unit=top, role="admin", password_hash=password_hash())
            token = await open_session(conn, user)
        await db.dispose()
        return token

    token = asyncio.run(prepare())
    with serving(role, "serve", "--data", str(data)) as served:
        yield served.url, token


@pytest.fixture(scope="module")
def hub_schema(hub: tuple[str, str]) -> Any:
    url, _ = hub
    # The sync endpoints speak msgpack with node credentials (their own hand-written tests); signing out or
    # changing the password would end the fuzzer's own session.
    return (
        schemathesis.openapi.from_url(f"{url}/schema/openapi.json")
        .exclude(path_regex=r"^/sync/")
        .exclude(path_regex=r"^/api/v1/auth/(logout|logout-all|password)$")
    )


def test_fuzz_the_api_no_5xx_and_every_answer_matches_its_schema(hub_schema: Any, hub: tuple[str, str]) -> None:
    url, token = hub
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    operations = [result.ok() for result in hub_schema.get_all_operations()]
    assert len(operations) > 50
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            response = case.call(base_url=url, headers=headers, timeout=30)
            case.validate_response(response, checks=(not_a_server_error, response_schema_conformance))

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # every operation is tried; all findings listed at the end
            failures.append(f"{operation.label}: {str(exc)[:600]}")
    assert not failures, "\n\n".join(failures)
