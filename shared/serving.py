"""How the web server meets the network: security headers on every response, and uvicorn's limits and timeouts.

Both `nqsync server serve` and `nqsync node serve` start uvicorn with `uvicorn_options`, so the hub and every node
hold up the same way against many, slow or stalled clients (issue 15 item 5).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

import uvicorn
from litestar import Litestar
from litestar.datastructures import MutableScopeHeaders
from litestar.types import BeforeMessageSendHookHandler, Message, Scope
from uvicorn.protocols.http.flow_control import service_unavailable
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from shared.settings import HttpSettings

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
"""No inline script or style and nothing from elsewhere: pages and their stylesheet are served from this instance."""
HSTS = "max-age=31536000"
HEADER_TIMEOUT_ENV = "NQSYNC_HEADER_TIMEOUT"
RETRY_AFTER_ENV = "NQSYNC_RETRY_AFTER"
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


def security_headers(http: HttpSettings) -> BeforeMessageSendHookHandler:
    """A hook on every response of the app (pages, API, sync, errors, 404s): the headers above; over HTTPS (TLS
    here, X-Forwarded-Proto from a trusted proxy, or `http.https`) also HSTS and `Secure` on every cookie."""

    async def hook(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders(message)
        for name, value in HEADERS.items():
            headers[name] = value
        if "cache-control" not in headers and not str(scope.get("path", "")).startswith("/static/"):
            headers["cache-control"] = "no-store"  # a shared office computer's cache keeps no member's data
        if http.https or scope.get("scheme") == "https":
            headers["strict-transport-security"] = HSTS
            message["headers"] = [
                (k, v + b"; Secure") if k.lower() == b"set-cookie" and b"secure" not in v.lower() else (k, v)
                for k, v in message["headers"]
            ]

    return hook


def _busy(retry_after: int) -> Any:
    """uvicorn's 503 for a request past `limit_concurrency`, with Retry-After: a node waits that long (plus its
    jitter) before it tries again, instead of its shortest backoff."""
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", b"19"),
        (b"retry-after", str(retry_after).encode()),
        (b"connection", b"close"),
    ]

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": b"Service Unavailable", "more_body": False})

    return app


class _OncePerSecond(logging.Filter):
    """uvicorn logs a warning for every request refused past the limit: in a flood, thousands a second (and their
    cost). One a second says the same."""

    def __init__(self) -> None:
        super().__init__()
        self._last = 0.0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != "Exceeded concurrency limit.":
            return True
        now = record.created
        if now - self._last < 1.0:
            return False
        self._last = now
        return True


_quieted: set[str] = set()


def _quiet_refusals(logger: logging.Logger) -> None:
    if logger.name not in _quieted:
        _quieted.add(logger.name)
        logger.addFilter(_OncePerSecond())


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for the request line and headers (uvicorn alone keeps a
    connection that sends nothing, or trickles its headers a byte at a time, open for ever), and a Retry-After on
    the 503 it answers past `limit_concurrency`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None
        # From the environment (set by `serve` from the settings): uvicorn's worker processes get the class by name.
        self.header_timeout = float(os.environ.get(HEADER_TIMEOUT_ENV) or HttpSettings().header_timeout_seconds)
        self._busy = _busy(int(os.environ.get(RETRY_AFTER_ENV) or HttpSettings().retry_after_seconds))
        _quiet_refusals(self.logger)

    def _start_asgi_task(self, cycle: Any, app: Any) -> None:
        # uvicorn picks its own `service_unavailable` for a request past the limit; ours says when to come back.
        super()._start_asgi_task(cycle, self._busy if app is service_unavailable else app)

    def _arm(self) -> None:
        self._disarm()
        self._header_deadline = self.loop.call_later(self.header_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _too_slow(self) -> None:
        if not self.transport.is_closing() and (self.cycle is None or self.cycle.response_complete):
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()


def freeze_after_startup(app: Litestar) -> Litestar:
    """Have `app`, once started, move every object alive then out of the cyclic collector's sight (`gc.freeze`).

    For serving processes only: what start-up made (modules, routes, the pool) lives as long as the process, yet
    every full collection walked it again, 100-150 ms every ~8 pull pages of a bootstrap at the hub (issue 14).
    """

    async def freeze() -> None:
        gc.collect()
        gc.freeze()

    app.on_startup.append(freeze)
    return app


class GracefulServer(uvicorn.Server):
    """uvicorn's server, stopped by SIGTERM (systemd) or Ctrl+C: requests in flight finish, then exit status 0.

    uvicorn alone raises the stop signal again once it has shut down, so a hub that finished its requests and
    stopped when asked would be reported as killed by SIGTERM.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # signals reach only the main thread
            return
        # signal.signal rather than loop.add_signal_handler: the same on Windows.
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


FILES_BESIDE_CONNECTIONS = 1024
"""File descriptors kept for what is not a client connection: database pool, logs, static files, exports."""


def fit_file_limit(http: HttpSettings) -> str | None:
    """Raise this process's soft limit on open files (inherited by uvicorn's workers) so `limit_concurrency`
    connections fit: below it, accept() fails with EMFILE and clients hang instead of getting a 503. systemd's
    default soft limit is 1024. Returns a warning when the hard limit does not allow it."""
    try:
        import resource
    except ImportError:  # Windows: no such limit
        return None
    need = http.limit_concurrency + FILES_BESIDE_CONNECTIONS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= need:
        return None
    target = need if hard == resource.RLIM_INFINITY else min(need, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target >= need:
        return None
    return (
        f"open-file limit {hard} is below the {need} that http.limit_concurrency ({http.limit_concurrency}) needs: "
        "raise LimitNOFILE (systemd) or `ulimit -n`, or lower NQSYNC_LIMIT_CONCURRENCY"
    )


def uvicorn_options(http: HttpSettings) -> dict[str, Any]:
    """The web server's limits, chosen rather than left to uvicorn's defaults (listed in deploy/README.md)."""
    warning = fit_file_limit(http)
    if warning:
        logging.getLogger("nqsync").warning(warning)
    os.environ[HEADER_TIMEOUT_ENV] = str(http.header_timeout_seconds)
    os.environ[RETRY_AFTER_ENV] = str(http.retry_after_seconds)
    return {
        "http": GuardedHttpProtocol,
        "timeout_keep_alive": http.timeout_keep_alive_seconds,
        "limit_concurrency": http.limit_concurrency,
        "backlog": http.backlog,
        "timeout_graceful_shutdown": http.graceful_shutdown_seconds,
        "proxy_headers": True,
        "forwarded_allow_ips": http.trusted_proxies,
        "server_header": False,
        "access_log": False,  # never shown at log level warning; off, uvicorn skips building each line's fields
        "log_level": "warning",
    }
