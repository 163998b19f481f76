"""The child's wire to its parent: HTTP clients kept between rounds, one request and its reply, enrolment."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import msgspec

from shared.sync.protocol import (
    MEDIA_TYPE,
    PROTOCOL,
    PROTOCOL_HEADER,
    EnrolRequest,
    EnrolResponse,
    Problem,
    decoder,
    pack,
)
from shared.sync.tls import tls_context, tls_failure

SOFTWARE = "nqsync/0.1"


class SyncFailed(Exception):
    """A round could not finish; `message_vi` is what the node's user is shown."""

    def __init__(self, message_vi: str, message_en: str, *, code: str = "", status: int = 0) -> None:
        super().__init__(message_en)
        self.message_vi = message_vi
        self.message_en = message_en
        self.code = code
        self.status = status

    @property
    def retryable(self) -> bool:
        """Worth trying again later (network, overload) rather than needing a person (credential, upgrade)."""
        return self.status == 0 or self.status >= 500 or self.status == 429


class Clients:
    """HTTP clients kept between rounds, one per upstream URL, for a node's sync loop.

    A round then reuses the connection the last round left open (while the parent keeps it alive) and skips
    building a client (proxy settings, connection pool): a new client and TCP connection were ~1,5 ms of a
    no-op round. The owner closes them with `aclose`.
    """

    def __init__(self, transport: httpx.AsyncBaseTransport | None = None, *, ca_bundle: str | None = None) -> None:
        self.transport = transport
        self.ca_bundle = ca_bundle
        self._clients: dict[str, httpx.AsyncClient] = {}

    def get(self, url: str, timeout: float) -> httpx.AsyncClient:
        http = self._clients.get(url)
        if http is None or http.is_closed:
            http = self._clients[url] = _client(url, self.transport, timeout, self.ca_bundle)
        return http

    async def aclose(self) -> None:
        clients, self._clients = self._clients, {}
        for http in clients.values():
            await http.aclose()


def _client(
    url: str, transport: httpx.AsyncBaseTransport | None, timeout: float, ca_bundle: str | None = None
) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, transport=transport, timeout=timeout, verify=tls_context(ca_bundle))


async def _drop(task: asyncio.Task[Any] | None) -> None:
    """Cancel work started ahead that is no longer wanted, and wait until it has let go of its connection."""
    if task is None:
        return
    task.cancel()
    await asyncio.wait([task])  # unlike awaiting the task, never raises its error nor swallows our own cancel
    if not task.cancelled():
        task.exception()  # retrieved: its failure no longer matters


async def enrol(
    url: str,
    code: str,
    label: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    ca_bundle: str | None = None,
) -> EnrolResponse:
    """Exchange a one-time code for a credential at `url`."""
    async with _client(url, transport, 30, ca_bundle) as http:
        reply = await _post(
            http, "/sync/v1/enrol", EnrolRequest(protocol=PROTOCOL, code=code, label=label, software=SOFTWARE), None
        )
    assert isinstance(reply, EnrolResponse)
    return reply


async def _post(http: httpx.AsyncClient, path: str, message: Any, credential: str | None) -> Any:
    headers = {
        PROTOCOL_HEADER: str(PROTOCOL),
        "content-type": MEDIA_TYPE,
        "content-encoding": "zstd",
    }
    if credential:
        headers["authorization"] = f"Bearer {credential}"
    try:
        resp = await http.post(path, content=pack(message), headers=headers)
    except httpx.HTTPError as exc:
        tls = tls_failure(exc, http.base_url.host)
        if tls is not None:
            # Not a traceback nor "ConnectError": what is wrong with the certificate and who can fix it.
            raise SyncFailed(tls[1], tls[2], code=tls[0]) from exc
        raise SyncFailed(
            f"Không kết nối được tới cấp trên ({http.base_url}): {type(exc).__name__}. Sẽ thử lại sau.",
            f"Could not reach the parent at {http.base_url}: {exc!r}",
        ) from exc
    if resp.status_code != 200:
        try:
            problem = msgspec.json.decode(resp.content, type=Problem)
        except msgspec.DecodeError:
            raise SyncFailed(
                f"Cấp trên trả lời lỗi {resp.status_code}. Sẽ thử lại sau.",
                f"The parent answered HTTP {resp.status_code}",
                status=resp.status_code,
            ) from None
        raise SyncFailed(problem.message_vi, problem.message_en, code=problem.code, status=resp.status_code)
    try:
        # httpx has already undone the zstd content-encoding.
        return decoder.decode(resp.content)
    except (msgspec.DecodeError, ValueError) as exc:
        raise SyncFailed(
            "Câu trả lời của cấp trên bị hỏng giữa đường. Sẽ thử lại sau.", f"Corrupt reply: {exc}"
        ) from exc
