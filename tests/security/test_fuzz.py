"""The hub's and a node's API fuzzed with schemathesis (issue 15 item 4): signed in as an admin, against a real
`nqsync server serve` / `nqsync node serve`, bounded and seeded (derandomized) for CI. No answer may be a 5xx,
and every answer must match its documented schema. A third run signs in as the admin of one base, with records
seeded in every sibling unit, and checks that no answer carries their ids, names or codes (D4; fuzz_scope.py).

Run it longer: NQSYNC_FUZZ_EXAMPLES=200 uv run --no-sync pytest -p no:xdist tests/security/test_fuzz.py (the scope
run takes twice that per operation).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error, response_schema_conformance

from shared.accounts.service import create_user, open_session
from shared.db.engine import Database
from shared.db.migrate import upgrade
from shared.domain.tree import Unit
from shared.settings import sqlite_url
from tests.domain_harness import make_units, password_hash, seed
from tests.harness import serving
from tests.security.fuzz_scope import CALLER_UNIT, Secrets, aim, seed_scope

EXAMPLES = int(os.environ.get("NQSYNC_FUZZ_EXAMPLES", "3"))
SCOPE_EXAMPLES = 2 * EXAMPLES


async def _prepare(data: Path, role: str, accounts: dict[str, str]) -> tuple[dict[str, Unit], dict[str, str]]:
    """A migrated SQLite database with the test tree and one signed-in admin per username → unit code."""
    db = Database(sqlite_url(data / "nqsync.sqlite3"))
    await upgrade(db)
    units = make_units()
    top = None if role == "server" else units["H1"].id
    await seed(db, units, role="hub" if role == "server" else "node", unit=top)
    tokens = {}
    async with db.write() as conn:
        for username, code in accounts.items():
            unit = units[code].id
            user = await create_user(conn, username=username, unit=unit, role="admin", password_hash=password_hash())
            tokens[username] = await open_session(conn, user)
    await db.dispose()
    return units, tokens


@pytest.fixture(scope="module", params=["server", "node"])
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The hub, or a district's node, on SQLite with the test tree and a signed-in admin: (url, bearer token)."""
    role: str = request.param
    data = tmp_path_factory.mktemp(f"fuzz{role}")
    _, tokens = asyncio.run(_prepare(data, role, {"fuzz": "TU" if role == "server" else "H1"}))
    with serving(role, "serve", "--data", str(data)) as served:
        yield served.url, tokens["fuzz"]


@pytest.fixture(scope="module")
def scoped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Secrets]]:
    """The hub with records in the caller's subtree and in every sibling unit; the caller is an admin of one base."""
    data = tmp_path_factory.mktemp("fuzzscope")
    units, tokens = asyncio.run(_prepare(data, "server", {"province": "TU", "base": CALLER_UNIT}))
    with serving("server", "serve", "--data", str(data)) as served:
        url = served.url
        secrets = asyncio.run(seed_scope(url, units, {"Authorization": f"Bearer {tokens['province']}"}))
        yield url, tokens["base"], secrets


def _schema(url: str) -> Any:
    # The sync endpoints speak msgpack with node credentials (their own hand-written tests); signing out or
    # changing the password would end the fuzzer's own session.
    return (
        schemathesis.openapi.from_url(f"{url}/schema/openapi.json")
        .exclude(path_regex=r"^/sync/")
        .exclude(path_regex=r"^/api/v1/auth/(logout|logout-all|password)$")
    )


def _fuzz(url: str, token: str, examples: int, checks: tuple[Any, ...], pool: list[str] | None = None) -> list[str]:
    """Every operation of the API, `examples` cases each (uuid slots aimed at `pool` when given): the findings."""
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    operations = [result.ok() for result in _schema(url).get_all_operations()]
    assert len(operations) > 50
    # Reads first: the fuzzer's own deletes would otherwise empty the lists before they are read.
    for operation in sorted(operations, key=lambda op: op.method.upper() != "GET"):

        @given(case=operation.as_strategy(), data=st.data())
        @settings(
            max_examples=examples,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any, data: st.DataObject) -> None:
            if pool:
                aim(case, data, pool)
            response = case.call(base_url=url, headers=headers, timeout=30)
            case.validate_response(response, checks=checks)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # every operation is tried; all findings listed at the end
            failures.append(f"{operation.label}: {str(exc)[:600]}")
    return failures


def test_fuzz_the_api_no_5xx_and_every_answer_matches_its_schema(hub: tuple[str, str]) -> None:
    url, token = hub
    failures = _fuzz(url, token, EXAMPLES, (not_a_server_error, response_schema_conformance))
    assert not failures, "\n\n".join(failures)


def test_fuzz_as_a_base_no_answer_carries_a_sibling_units_data_d4(scoped: tuple[str, str, Secrets]) -> None:
    """D4: signed in at one base, whatever the request (ids aimed at siblings' records and units, or its own),
    no answer holds an id, name or code of a record or unit outside the base's subtree and the units above it."""
    url, token, secrets = scoped

    def no_other_units_data(ctx: Any, response: Any, case: Any) -> None:
        sent = f"{case.formatted_path} {case.query} {case.body}" if response.status_code >= 400 else ""
        leaked = secrets.leaks(response.content, sent)
        assert not leaked, f"{case.method} {case.formatted_path} {case.query}: {response.status_code} shows {leaked}"

    pool = secrets.hidden_ids + secrets.visible_ids
    checks = (not_a_server_error, response_schema_conformance, no_other_units_data)
    failures = _fuzz(url, token, SCOPE_EXAMPLES, checks, pool)
    assert not failures, "\n\n".join(failures)
