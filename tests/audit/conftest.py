"""An API on a fresh database of each backend, with accounts for every role at several units."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.db.engine import Database
from tests.domain_harness import Api, running_api


@pytest.fixture
async def api(db: Database, tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(db, tmp_path) as running:
        yield running
