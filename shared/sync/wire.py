"""The node's HTTP/1.1 client to its parents: kept connections, TLS, the environment's HTTP proxy, bounded replies.

A no-op pull on a kept connection took 1.6 ms through httpx (request and response models, cookies, h11, anyio)
against 0.7 ms for these few lines on asyncio streams (docs/benchmarks.md, issue 14 item 4). The sync protocol
needs only POST with a body and a reply read whole, so this is all of HTTP it speaks: one request at a time per
connection, `content-length` or chunked replies, `connection: close`. TLS uses `tls.tls_context` (the CA bundle of
`node init --ca-bundle` / NQSYNC_CA_BUNDLE); HTTPS_PROXY / HTTP_PROXY / NO_PROXY are honoured as httpx did (a CONNECT
tunnel for https parents, absolute URLs for http ones).
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import urllib.request
from dataclasses import dataclass
from urllib.parse import SplitResult, unquote, urlsplit

from shared.sync.tls import tls_context

_MAX_HEADERS = 100
_CHUNK = 256 * 1024


class ReplyTooLarge(Exception):
    """The parent's reply is bigger than this node accepts (`SyncSettings.max_reply_bytes`)."""


class BadReply(Exception):
    """What came back is not an HTTP/1.1 reply this client can read (a misbehaving parent or proxy)."""


class ProxyRefused(OSError):
    """The HTTP proxy did not open a tunnel to the parent."""


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: dict[str, str]
    """Names in lower case; a repeated header keeps its last value."""
    body: bytes
    """As received: still zstd-compressed when `content-encoding` says so."""


class _Stale(Exception):
    """A kept connection the parent had already closed: nothing of the request was answered, send it again."""


def proxy_for(url: SplitResult) -> SplitResult | None:
    """The environment's proxy for `url` (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, minus NO_PROXY), as httpx chose it."""
    proxies = urllib.request.getproxies()
    proxy = proxies.get(url.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(url.netloc):
        return None
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if parts.scheme != "http" or not parts.hostname:
        raise ProxyRefused(f"unsupported proxy {parts.scheme}://{parts.hostname} (only http:// proxies)")
    return parts


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def usable(self) -> bool:
        return not (self.reader.at_eof() or self.writer.is_closing())

    def close(self) -> None:
        self.writer.close()


class Link:
    """HTTP/1.1 to one parent URL; connections kept between requests while the parent keeps them alive.

    Several requests may run at once (a pull asked ahead while the last batch is applied): each takes an idle
    connection or opens one. A request cancelled or failed mid-way closes its connection, never reused half-read.
    """

    def __init__(self, url: str, *, timeout: float, ca_bundle: str | None, max_reply_bytes: int) -> None:
        self.url = url.rstrip("/")
        self.parts = urlsplit(self.url)
        if self.parts.scheme not in ("http", "https") or not self.parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.host = self.parts.hostname
        self.port = self.parts.port or (443 if self.parts.scheme == "https" else 80)
        self.timeout = timeout
        self.max_reply_bytes = max_reply_bytes
        self.tls: ssl.SSLContext | None = tls_context(ca_bundle) if self.parts.scheme == "https" else None
        self.proxy = proxy_for(self.parts)
        self._idle: list[_Connection] = []
        self.closed = False
        authority = self.parts.netloc.rpartition("@")[2]
        # Plain http through a proxy names the whole URL in the request line (RFC 9112 absolute-form).
        self._prefix = (self.url if self.proxy is not None and self.tls is None else "") + self.parts.path
        self._host_line = f"Host: {authority}\r\n"
        if self.proxy is not None and self.tls is None:
            self._host_line += self._proxy_auth()

    def _proxy_auth(self) -> str:
        assert self.proxy is not None
        if self.proxy.username is None:
            return ""
        pair = f"{unquote(self.proxy.username)}:{unquote(self.proxy.password or '')}"
        return f"Proxy-Authorization: Basic {base64.b64encode(pair.encode()).decode()}\r\n"

    async def post(self, path: str, body: bytes, headers: str) -> Reply:
        """POST `body` to `path` with `headers` (complete `Name: value\\r\\n` lines); the reply read whole.

        Raises OSError (network, TLS: ssl.SSLError), TimeoutError (no progress for `timeout` seconds),
        ReplyTooLarge or BadReply.
        """
        head = (
            f"POST {self._prefix}{path} HTTP/1.1\r\n{self._host_line}{headers}content-length: {len(body)}\r\n\r\n"
        ).encode("latin-1")
        async with asyncio.timeout(self.timeout) as deadline:
            conn = self._take()
            if conn is not None:
                try:
                    return await self._exchange(conn, head, body, deadline)
                except _Stale:
                    pass  # the parent closed it while idle: once more on a new connection
            conn = await self._open()
            try:
                return await self._exchange(conn, head, body, deadline)
            except _Stale:
                raise ConnectionResetError("the parent closed the connection without answering") from None
        raise AssertionError("unreachable")  # for mypy: `async with` may swallow exceptions in its eyes

    def _take(self) -> _Connection | None:
        while self._idle:
            conn = self._idle.pop()
            if conn.usable():
                return conn
            conn.close()
        return None

    async def _open(self) -> _Connection:
        if self.proxy is None:
            reader, writer = await asyncio.open_connection(
                self.host, self.port, ssl=self.tls, server_hostname=self.host if self.tls else None
            )
            return _Connection(reader, writer)
        reader, writer = await asyncio.open_connection(self.proxy.hostname, self.proxy.port or 80)
        conn = _Connection(reader, writer)
        if self.tls is None:
            return conn
        try:
            target = f"{self.host}:{self.port}"
            writer.write(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n{self._proxy_auth()}\r\n".encode("latin-1"))
            status, _ = await _read_head(reader, await reader.readuntil(b"\r\n"))
            if status != 200:
                raise ProxyRefused(f"the proxy answered {status} to CONNECT {target}")
            await writer.start_tls(self.tls, server_hostname=self.host)
        except BaseException:
            conn.close()
            raise
        return conn

    async def _exchange(self, conn: _Connection, head: bytes, body: bytes, deadline: asyncio.Timeout) -> Reply:
        loop = asyncio.get_running_loop()
        try:
            try:
                conn.writer.write(head + body if len(body) < _CHUNK else head)
                if len(body) >= _CHUNK:
                    conn.writer.write(body)
                await conn.writer.drain()
                first = await conn.reader.readuntil(b"\r\n")
            except (ConnectionResetError, BrokenPipeError):
                raise _Stale from None
            except asyncio.IncompleteReadError as exc:
                if exc.partial:
                    raise
                raise _Stale from None
            status, headers = await _read_head(conn.reader, first)
            deadline.reschedule(loop.time() + self.timeout)
            content = await self._read_body(conn.reader, headers, deadline)
        except asyncio.LimitOverrunError:
            conn.close()
            raise BadReply("a line of the reply is longer than 64 KiB") from None
        except BaseException:
            conn.close()
            raise
        if headers.get("connection", "").lower() == "close" or self.closed:
            conn.close()
        else:
            self._idle.append(conn)
        return Reply(status, headers, content)

    async def _read_body(
        self, reader: asyncio.StreamReader, headers: dict[str, str], deadline: asyncio.Timeout
    ) -> bytes:
        loop = asyncio.get_running_loop()
        limit = self.max_reply_bytes
        if "chunked" in headers.get("transfer-encoding", "").lower():
            parts: list[bytes] = []
            size = 0
            while True:
                line = await reader.readuntil(b"\r\n")
                try:
                    n = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise BadReply(f"bad chunk size {line[:40]!r}") from None
                if n == 0:
                    while await reader.readuntil(b"\r\n") != b"\r\n":
                        pass  # trailers
                    return b"".join(parts)
                size += n
                if size > limit:
                    raise ReplyTooLarge(f"the reply exceeds {limit} bytes")
                parts.append(await reader.readexactly(n))
                await reader.readexactly(2)
                deadline.reschedule(loop.time() + self.timeout)
        declared = headers.get("content-length")
        if declared is None:  # HTTP/1.0 style: the body runs to the end of the connection
            headers["connection"] = "close"
            data = bytearray()
            while chunk := await reader.read(_CHUNK):
                data += chunk
                if len(data) > limit:
                    raise ReplyTooLarge(f"the reply exceeds {limit} bytes")
                deadline.reschedule(loop.time() + self.timeout)
            return bytes(data)
        if not declared.isdigit():
            raise BadReply(f"bad content-length {declared[:40]!r}")
        length = int(declared)
        if length > limit:
            raise ReplyTooLarge(f"the reply declares {length} bytes, more than {limit}")
        if length <= _CHUNK:
            return await reader.readexactly(length)
        data = bytearray()
        while len(data) < length:
            data += await reader.readexactly(min(_CHUNK, length - len(data)))
            deadline.reschedule(loop.time() + self.timeout)
        return bytes(data)

    async def aclose(self) -> None:
        self.closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


async def _read_head(reader: asyncio.StreamReader, line: bytes) -> tuple[int, dict[str, str]]:
    """The status and headers of the next final (non-1xx) reply, whose first line is `line`."""
    while True:
        version, _, rest = line.partition(b" ")
        code = rest[:3]
        if not version.startswith(b"HTTP/1.") or not code.isdigit():
            raise BadReply(f"not an HTTP/1.1 reply: {line[:60]!r}")
        headers: dict[str, str] = {}
        if version == b"HTTP/1.0":
            headers["connection"] = "close"
        for _ in range(_MAX_HEADERS):
            line = await reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, sep, value = line.partition(b":")
            if not sep:
                raise BadReply(f"bad header line {line[:60]!r}")
            headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
        else:
            raise BadReply(f"more than {_MAX_HEADERS} header lines")
        if not 100 <= int(code) < 200:
            return int(code), headers
        line = await reader.readuntil(b"\r\n")
