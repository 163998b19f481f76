"""Settings, one small dataclass per concern, loaded once from NQSYNC_* variables and CLI flags.

Nothing here is read at import time: `Settings.load()` is called by the CLI and the result passed to `create_app`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    url: str
    """SQLAlchemy URL; `sqlite+aiosqlite:///...` (embedded default) or `postgresql+asyncpg://...`."""
    echo: bool = False
    """Log every SQL statement (debugging only)."""


@dataclass(frozen=True, slots=True)
class RedisSettings:
    url: str | None = None
    """arq's Redis; without it background jobs run in-process."""


@dataclass(frozen=True, slots=True)
class HttpSettings:
    host: str = "127.0.0.1"
    """Address the web server listens on."""
    port: int = 8000
    """TCP port the web server listens on."""
    max_body_bytes: int = 32 * 1024 * 1024
    """Request bodies above this are refused before they are read whole."""


@dataclass(frozen=True, slots=True)
class SyncSettings:
    batch_rows: int = 5000
    """Most rows in one pull or push batch."""
    batch_bytes: int = 8 * 1024 * 1024
    """Most uncompressed payload bytes in one batch."""
    interval_seconds: float = 180.0
    """Pause between rounds of `node serve` (districts: minutes; base cells sync whenever they can)."""
    max_backoff_seconds: float = 900.0
    """Longest pause after repeated failures."""
    request_timeout_seconds: float = 60.0
    """How long one sync request may take before it is abandoned and retried."""
    verify_every_rounds: int = 20
    """The loop compares digests with the parent every this many rounds."""
    concurrent_pushes: int = 4
    """Pushes a parent process applies at once; the rest wait in memory, not on a database connection (pushes
    serialise on the feed counter anyway, so more in flight only starve the pulls of connections in a burst)."""
    cache_seconds: float = 10.0
    """How long a parent trusts a checked credential and a child's scope: a revocation or a move of a unit takes
    effect within this time, and a round with nothing to do costs one query."""


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    """Where this instance keeps its SQLite file, exports and logs."""
    database: DatabaseSettings
    redis: RedisSettings = field(default_factory=RedisSettings)
    http: HttpSettings = field(default_factory=HttpSettings)
    sync: SyncSettings = field(default_factory=SyncSettings)

    @classmethod
    def load(
        cls, data_dir: Path | str | None = None, env: Mapping[str, str] | None = None, **overrides: Any
    ) -> Settings:
        """Settings from the environment (`NQSYNC_*`), then explicit overrides (CLI flags) on top."""
        env = os.environ if env is None else env
        data = Path(data_dir or env.get("NQSYNC_DATA_DIR") or "nqsync-data").resolve()
        db_url = env.get("NQSYNC_DATABASE_URL") or sqlite_url(data / "nqsync.sqlite3")
        settings = cls(
            data_dir=data,
            database=DatabaseSettings(url=db_url, echo=env.get("NQSYNC_DATABASE_ECHO") == "1"),
            redis=RedisSettings(url=env.get("NQSYNC_REDIS_URL") or None),
            http=HttpSettings(
                host=env.get("NQSYNC_HOST", "127.0.0.1"),
                port=int(env.get("NQSYNC_PORT", "8000")),
            ),
            sync=SyncSettings(
                interval_seconds=float(env.get("NQSYNC_SYNC_INTERVAL", "180")),
            ),
        )
        return settings.with_overrides(**overrides)

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with dotted overrides applied, e.g. `{"http.port": 8001, "database.url": ...}`; None is ignored."""
        result = self
        for key, value in overrides.items():
            if value is None:
                continue
            section, _, name = key.partition(".")
            if not name:
                result = replace(result, **{section: value})
            else:
                result = replace(result, **{section: replace(getattr(result, section), **{name: value})})
        return result


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"
