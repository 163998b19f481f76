"""The child's wire to its parent: links kept between rounds, one request and its reply read safely, enrolment."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec

from shared.settings import SyncSettings
from shared.sync.protocol import (
    MEDIA_TYPE,
    PROTOCOL,
    PROTOCOL_HEADER,
    BodyTooLarge,
    EnrolRequest,
    EnrolResponse,
    Problem,
    decoder,
    pack,
    unpack_body,
)
from shared.sync.tls import tls_failure
from shared.sync.wire import BadReply, Link, ReplyTooLarge

SOFTWARE = "nqsync/0.1"


class SyncFailed(Exception):
    """A round could not finish; `message_vi` is what the node's user is shown."""

    def __init__(
        self, message_vi: str, message_en: str, *, code: str = "", status: int = 0, retry_after: float | None = None
    ) -> None:
        super().__init__(message_en)
        self.message_vi = message_vi
        self.message_en = message_en
        self.code = code
        self.status = status
        self.retry_after = retry_after
        """Seconds the parent asked to wait before trying again (its Retry-After on a 503 or 429), if it said."""

    @property
    def retryable(self) -> bool:
        """Worth trying again later (network, overload) rather than needing a person (credential, upgrade)."""
        return self.status == 0 or self.status >= 500 or self.status == 429


class Clients:
    """Links kept between rounds, one per upstream URL, for a node's sync loop.

    A round then reuses the connection the last round left open (while the parent keeps it alive): a new client
    and TCP connection were ~1,5 ms of a no-op round. The owner closes them with `aclose`.
    """

    def __init__(self) -> None:
        self._links: dict[str, Link] = {}

    def get(self, url: str, settings: SyncSettings) -> Link:
        link = self._links.get(url)
        if link is None or link.closed:
            link = self._links[url] = _link(url, settings)
        return link

    async def aclose(self) -> None:
        links, self._links = self._links, {}
        for link in links.values():
            await link.aclose()


def _link(url: str, settings: SyncSettings) -> Link:
    return Link(
        url,
        timeout=settings.request_timeout_seconds,
        ca_bundle=settings.ca_bundle,
        max_reply_bytes=settings.max_reply_bytes,
    )


async def _drop(task: asyncio.Task[Any] | None) -> None:
    """Cancel work started ahead that is no longer wanted, and wait until it has let go of its connection."""
    if task is None:
        return
    task.cancel()
    await asyncio.wait([task])  # unlike awaiting the task, never raises its error nor swallows our own cancel
    if not task.cancelled():
        task.exception()  # retrieved: its failure no longer matters


async def enrol(url: str, code: str, label: str, *, ca_bundle: str | None = None) -> EnrolResponse:
    """Exchange a one-time code for a credential at `url`."""
    link = _link(url, SyncSettings(request_timeout_seconds=30, ca_bundle=ca_bundle))
    try:
        reply = await _post(
            link, "/sync/v1/enrol", EnrolRequest(protocol=PROTOCOL, code=code, label=label, software=SOFTWARE), None
        )
    finally:
        await link.aclose()
    assert isinstance(reply, EnrolResponse)
    return reply


_HEADERS = (
    f"{PROTOCOL_HEADER}: {PROTOCOL}\r\ncontent-type: {MEDIA_TYPE}\r\ncontent-encoding: zstd\r\n"
    f"user-agent: {SOFTWARE}\r\n"
)


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (the form servers send on 503); an HTTP date or garbage counts as not said."""
    if value is None or not value.strip().isdigit():
        return None
    return float(value.strip())


def _too_large(link: Link) -> SyncFailed:
    limit = link.max_reply_bytes
    return SyncFailed(
        f"Câu trả lời của cấp trên ({link.url}) vượt quá {limit // (1024 * 1024)} MB mà nút này nhận; không có gì "
        "được ghi. Hãy báo bộ phận CNTT của cấp trên.",
        f"The parent's reply exceeds the {limit} bytes this node accepts; nothing was applied.",
        code="reply_too_large",
    )


def corrupt_reply(link_url: str, detail: str) -> SyncFailed:
    """The failure for a reply that cannot be read (corrupt, nested too deeply): nothing of it is applied."""
    return SyncFailed(
        f"Câu trả lời của cấp trên ({link_url}) bị hỏng hoặc không đúng định dạng; không có gì được ghi. "
        "Sẽ thử lại sau; nếu lỗi lặp lại, hãy báo bộ phận CNTT của cấp trên.",
        f"Corrupt reply from {link_url}: {detail}; nothing was applied.",
        code="bad_reply",
    )


async def _post(link: Link, path: str, message: Any, credential: str | None) -> Any:
    headers = f"{_HEADERS}authorization: Bearer {credential}\r\n" if credential else _HEADERS
    try:
        resp = await link.post(path, pack(message), headers)
    except ReplyTooLarge:
        raise _too_large(link) from None
    except BadReply as exc:
        raise corrupt_reply(link.url, str(exc)) from None
    except (OSError, EOFError, TimeoutError) as exc:
        tls = tls_failure(exc, link.host)
        if tls is not None:
            # Not a traceback nor "SSLError": what is wrong with the certificate and who can fix it.
            raise SyncFailed(tls[1], tls[2], code=tls[0]) from exc
        raise SyncFailed(
            f"Không kết nối được tới cấp trên ({link.url}): {type(exc).__name__}. Sẽ thử lại sau.",
            f"Could not reach the parent at {link.url}: {exc!r}",
        ) from exc
    if resp.status != 200:
        wait = _retry_after(resp.headers.get("retry-after"))
        try:
            problem = msgspec.json.decode(resp.body, type=Problem)
        except (msgspec.DecodeError, RecursionError):
            busy = resp.status == 503
            raise SyncFailed(
                "Cấp trên đang quá tải, chưa nhận yêu cầu; không có gì bị mất. Sẽ tự thử lại sau."
                if busy
                else f"Cấp trên trả lời lỗi {resp.status}. Sẽ thử lại sau.",
                f"The parent answered HTTP {resp.status}" + (" (busy; nothing was lost)" if busy else ""),
                code="busy" if busy else "",
                status=resp.status,
                retry_after=wait,
            ) from None
        raise SyncFailed(
            problem.message_vi, problem.message_en, code=problem.code, status=resp.status, retry_after=wait
        )
    encoding = resp.headers.get("content-encoding", "identity")
    try:
        if encoding not in ("zstd", "identity"):
            raise ValueError(f"content-encoding {encoding!r}")
        raw = unpack_body(resp.body, compressed=encoding == "zstd", max_bytes=link.max_reply_bytes)
        # msgspec recurses with Py_EnterRecursiveCall: nesting past the recursion limit raises RecursionError.
        return decoder.decode(raw)
    except BodyTooLarge:
        raise _too_large(link) from None
    except RecursionError:
        raise corrupt_reply(link.url, "nested too deeply") from None
    except (msgspec.DecodeError, ValueError) as exc:
        raise corrupt_reply(link.url, str(exc)) from None
