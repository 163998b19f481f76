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
    https: bool = False
    """Served to users over HTTPS (directly or by a TLS proxy): cookies are marked Secure and HSTS is sent on every
    response. A request that arrives as https (TLS here, or X-Forwarded-Proto from a trusted proxy) gets them too."""
    trusted_proxies: str = "127.0.0.1"
    """Comma-separated addresses whose X-Forwarded-For / X-Forwarded-Proto are believed (uvicorn's
    `forwarded_allow_ips`): the client address used for sign-in throttling and the scheme used for Secure cookies."""
    timeout_keep_alive_seconds: int = 5
    """An idle keep-alive connection is closed after this long (frees the slot of a slow or vanished client)."""
    limit_concurrency: int = 10_000
    """Most connections (and requests in flight) one worker holds at once; past it a request gets 503 with
    Retry-After at once, not a hang. Sized for a province's burst: ~8,000 units whose nodes may all sync in the
    same minute before a deadline, each holding one connection while it waits its turn (served in seconds, not
    refused), on any one worker (the kernel does not share connections evenly). Each costs a file descriptor:
    `serve` raises its soft limit to fit (docs/security.md)."""
    backlog: int = 8192
    """Connections the kernel queues before the server accepts them (capped by `net.core.somaxconn`)."""
    retry_after_seconds: int = 10
    """Retry-After of the 503 past `limit_concurrency`: a node waits this long, up to twice it, before retrying."""
    header_timeout_seconds: float = 10.0
    """A request's line and headers must arrive within this long of the connection opening (or of the previous
    response): a client that connects and stalls, or trickles its headers (slowloris), is dropped."""
    graceful_shutdown_seconds: int = 30
    """On stop (SIGTERM from systemd), requests in flight get this long to finish before connections are closed:
    a full sync batch pulled or pushed over a slow link fits (deploy/systemd's TimeoutStopSec is sized above it)."""


@dataclass(frozen=True, slots=True)
class AuthSettings:
    session_hours: float = 12.0
    """A session ends this long after sign-in, however busy (a working day and some: staff sign in each morning)."""
    idle_minutes: float = 60.0
    """A session ends after this long with no request (a laptop left open in a meeting room)."""
    free_failures: int = 5
    """Wrong passwords for one account (since its last sign-in) before any delay: typing slips cost nothing."""
    address_free_failures: int = 20
    """Failed attempts from one address in the last hour before any delay (an office shares one address)."""
    delay_seconds: float = 1.0
    """The first delay; each further failure doubles it."""
    max_delay_seconds: float = 300.0
    """The longest delay: the owner, having waited this long, can always sign in with the right password."""


@dataclass(frozen=True, slots=True)
class SyncSettings:
    batch_rows: int = 5000
    """Most rows in one pull or push batch."""
    batch_bytes: int = 8 * 1024 * 1024
    """Most uncompressed payload bytes in one batch."""
    max_record_bytes: int = 1024 * 1024
    """Largest wire form of one record a parent accepts from a child; a larger one (a 20 MB name) is refused alone,
    named to the node's users, and the rest of the batch applied. A report draft's text is far below it."""
    interval_seconds: float = 180.0
    """Pause between rounds of `node serve` (districts: minutes; base cells sync whenever they can)."""
    max_backoff_seconds: float = 900.0
    """Longest pause after repeated failures."""
    request_timeout_seconds: float = 60.0
    """How long one sync request may take before it is abandoned and retried."""
    note_quiet_rounds_seconds: float = 600.0
    """A round that pushed and pulled nothing writes nothing at the node unless the last round it noted is older
    than this: the sync page's "last attempt" and "last pull" are then at most this old."""
    verify_every_rounds: int = 20
    """The loop compares digests with the parent every this many rounds."""
    concurrent_pushes: int = 4
    """Pushes a parent process applies at once; the rest wait in memory, not on a database connection (pushes
    serialise on the feed counter anyway, so more in flight only starve the pulls of connections in a burst)."""
    cache_seconds: float = 10.0
    """How long a parent trusts a checked credential and a child's scope: a revocation or a move of a unit takes
    effect within this time, and a round with nothing to do costs one query."""
    tombstone_grace_days: float = 30.0
    """A child not heard from for longer than this no longer holds back the collection of tombstones it would only
    purge (records owned outside its subtree): when it returns, it verifies by digest instead."""
    max_reply_bytes: int = 64 * 1024 * 1024
    """Largest reply a node accepts from a parent, as received and once decompressed (a zstd bomb from a hostile or
    broken parent): a larger one fails the round with nothing applied. A pull batch is at most `batch_bytes`."""
    ca_bundle: str | None = None
    """A PEM file of CAs trusted for parents besides the public ones (a province's private CA): NQSYNC_CA_BUNDLE,
    else the data folder's `parent-ca.pem` that `node init --ca-bundle` keeps."""


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    """Where this instance keeps its SQLite file, exports and logs."""
    database: DatabaseSettings
    redis: RedisSettings = field(default_factory=RedisSettings)
    http: HttpSettings = field(default_factory=HttpSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
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
                https=env.get("NQSYNC_HTTPS") == "1",
                trusted_proxies=env.get("NQSYNC_TRUSTED_PROXIES", "127.0.0.1"),
                header_timeout_seconds=float(env.get("NQSYNC_HEADER_TIMEOUT", "10")),
                limit_concurrency=int(env.get("NQSYNC_LIMIT_CONCURRENCY") or HttpSettings().limit_concurrency),
                retry_after_seconds=int(env.get("NQSYNC_RETRY_AFTER") or HttpSettings().retry_after_seconds),
                graceful_shutdown_seconds=int(env.get("NQSYNC_GRACEFUL_SHUTDOWN", "30")),
            ),
            auth=AuthSettings(
                session_hours=float(env.get("NQSYNC_SESSION_HOURS", "12")),
                idle_minutes=float(env.get("NQSYNC_IDLE_MINUTES", "60")),
            ),
            sync=SyncSettings(
                interval_seconds=float(env.get("NQSYNC_SYNC_INTERVAL", "180")),
                ca_bundle=env.get("NQSYNC_CA_BUNDLE") or _kept_bundle(data),
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


PARENT_CA_FILE = "parent-ca.pem"
"""Where `node init --ca-bundle` keeps the CAs a node trusts for its parents, inside its data folder."""


def _kept_bundle(data: Path) -> str | None:
    path = data / PARENT_CA_FILE
    return str(path) if path.is_file() else None


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"
