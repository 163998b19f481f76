"""A small TCP proxy on loopback that injects network faults between a node and its parent.

It understands just enough HTTP/1.1 (request and response framing by Content-Length or chunked encoding) to apply a
fault to one whole request: cut it after N bytes on its way up, cut its response after N bytes on its way down,
delay it, or send it to the parent a second time (a retry the node never made, possibly arriving late). Which
request gets which fault is decided by a plan: a fixed schedule by request number, a seeded random plan, or any
callable. Every fault it injects is counted in `injected`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

CUT_REQUEST = "cut_request"
CUT_RESPONSE = "cut_response"
DELAY = "delay"
DUPLICATE = "duplicate"
KINDS = (CUT_REQUEST, CUT_RESPONSE, DELAY, DUPLICATE)


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault for one request.

    For cuts, `after` is the byte count forwarded before the cut, or `fraction` of the message's length; either is
    clamped so that at least one byte is withheld (a cut that forwards everything would be no fault). For a delay,
    `seconds` is how long the request (or, with `on_response`, its response) is held. A duplicate is replayed on a
    fresh connection, right after the original (`late=False`) or once the original's response has gone back. A
    delay with `until` lasts until the test sets that event, whatever `seconds` says.
    """

    kind: str
    after: int | None = None
    fraction: float = 0.5
    seconds: float = 0.0
    on_response: bool = False
    late: bool = True
    until: asyncio.Event | None = None

    def cut_at(self, size: int) -> int:
        wanted = self.after if self.after is not None else int(size * self.fraction)
        return max(0, min(wanted, size - 1))


@dataclass(frozen=True, slots=True)
class RequestInfo:
    number: int
    """Position of the request among all this proxy has seen, from 0."""
    connection: int
    """Which client connection it came on, from 0."""
    index: int
    """Position of the request on its connection, from 0."""
    method: str
    path: str
    size: int


Plan = Callable[[RequestInfo], Fault | None]


def random_plan(seed: int, rate: float, kinds: Iterable[str] = KINDS, max_delay: float = 0.5) -> Plan:
    """A seeded plan: each request gets a fault with probability `rate`, of a kind drawn from `kinds`."""
    rng = random.Random(seed)
    choices = list(kinds)

    def plan(_: RequestInfo) -> Fault | None:
        if rng.random() >= rate:
            return None
        kind = rng.choice(choices)
        return Fault(
            kind,
            fraction=rng.random(),
            seconds=rng.uniform(0.05, max_delay),
            on_response=rng.random() < 0.5,
            late=rng.random() < 0.5,
        )

    return plan


class MessageReader:
    """Reads whole HTTP/1.1 messages (head and body) off a stream."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader

    async def read(self) -> bytes | None:
        """The next whole message, or None if the peer closed the connection between messages."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise ConnectionResetError("connection closed inside a message head") from exc
            return None
        length = 0
        chunked = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip())
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if not chunked:
            return head + await self.reader.readexactly(length)
        parts = [head]
        while True:
            size_line = await self.reader.readuntil(b"\r\n")
            parts.append(size_line)
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                # Trailers (none in practice), then the blank line that ends the message.
                while True:
                    line = await self.reader.readuntil(b"\r\n")
                    parts.append(line)
                    if line == b"\r\n":
                        return b"".join(parts)
            parts.append(await self.reader.readexactly(size + 2))


class FaultProxy:
    """Listens on an ephemeral loopback port and forwards to `target_port`, injecting the faults its plan says."""

    def __init__(self, target_port: int, *, name: str = "", plan: Plan | None = None, host: str = "127.0.0.1") -> None:
        self.name = name
        self.host = host
        self.target_port = target_port
        self.plan = plan
        self.schedule: dict[int, Fault] = {}
        self.injected: Counter[str] = Counter()
        self.requests = 0
        self.connections = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._replays: set[asyncio.Task[None]] = set()
        self._watchers: list[tuple[str, Callable[[RequestInfo, int], bool], asyncio.Future[RequestInfo]]] = []

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def total(self) -> int:
        return sum(self.injected.values())

    async def start(self) -> FaultProxy:
        self._server = await asyncio.start_server(self._handle, self.host, 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    async def settle(self) -> None:
        """Wait until every replayed request has had its answer (a late duplicate may still be on its way)."""
        while self._replays:
            await asyncio.gather(*list(self._replays), return_exceptions=True)

    def heal(self) -> None:
        """No more faults: the link forwards everything from now on."""
        self.plan = None
        self.schedule.clear()

    def fault_next(self, fault: Fault, *, skip: int = 0) -> None:
        """Give `fault` to the request after the next `skip` ones."""
        self.schedule[self.requests + skip] = fault

    def watch(self, event: str, match: Callable[[RequestInfo, int], bool]) -> asyncio.Future[RequestInfo]:
        """A future set the first time `event` happens to a request `match(info, size)` accepts.

        Events: "request_sent" (the whole request reached the parent; size is the request's) and "response_sent"
        (the whole response reached the node; size is the response's).
        """
        future: asyncio.Future[RequestInfo] = asyncio.get_running_loop().create_future()
        self._watchers.append((event, match, future))
        return future

    def _notify(self, event: str, info: RequestInfo, size: int) -> None:
        for entry in list(self._watchers):
            kind, match, future = entry
            if kind == event and not future.done() and match(info, size):
                future.set_result(info)
                self._watchers.remove(entry)

    def _decide(self, info: RequestInfo) -> Fault | None:
        fault = self.schedule.pop(info.number, None)
        if fault is None and self.plan is not None:
            fault = self.plan(info)
        return fault

    def _spawn_replay(self, request: bytes) -> None:
        task = asyncio.ensure_future(self._replay(request))
        for group in (self._tasks, self._replays):
            group.add(task)
            task.add_done_callback(group.discard)

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        connection = self.connections
        self.connections += 1
        up_writer: asyncio.StreamWriter | None = None
        try:
            try:
                up_reader, up_writer = await asyncio.open_connection(self.host, self.target_port)
            except OSError:
                return  # the parent is down: the node sees its connection closed
            requests, responses = MessageReader(client_reader), MessageReader(up_reader)
            index = 0
            while True:
                request = await requests.read()
                if request is None:
                    return
                first = request.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
                info = RequestInfo(self.requests, connection, index, first[0], first[1], len(request))
                self.requests += 1
                index += 1
                fault = self._decide(info)
                if fault is not None:
                    self.injected[fault.kind] += 1
                if fault and fault.kind == CUT_REQUEST:
                    up_writer.write(request[: fault.cut_at(len(request))])
                    await up_writer.drain()
                    return
                if fault and fault.kind == DELAY and not fault.on_response:
                    await _hold(fault)
                up_writer.write(request)
                await up_writer.drain()
                self._notify("request_sent", info, len(request))
                if fault and fault.kind == DUPLICATE and not fault.late:
                    self._spawn_replay(request)
                response = await responses.read()
                if response is None:
                    return
                if fault and fault.kind == CUT_RESPONSE:
                    # The parent has done the work; only its answer is lost on the way.
                    client_writer.write(response[: fault.cut_at(len(response))])
                    await client_writer.drain()
                    return
                if fault and fault.kind == DELAY and fault.on_response:
                    await _hold(fault)
                client_writer.write(response)
                await client_writer.drain()
                self._notify("response_sent", info, len(response))
                if fault and fault.kind == DUPLICATE and fault.late:
                    self._spawn_replay(request)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            return
        except asyncio.CancelledError:
            # `close` ends idle connections; asyncio's stream callback would log a cancelled handler as an error.
            return
        finally:
            await _close(client_writer, up_writer)

    async def _replay(self, request: bytes) -> None:
        """Send a captured request again on its own connection and drop the answer, as a stray retry would."""
        writer: asyncio.StreamWriter | None = None
        try:
            reader, writer = await asyncio.open_connection(self.host, self.target_port)
            writer.write(request)
            await writer.drain()
            await MessageReader(reader).read()
        except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            await _close(writer)


async def _hold(fault: Fault) -> None:
    if fault.until is not None:
        await fault.until.wait()
    else:
        await asyncio.sleep(fault.seconds)


async def _close(*writers: asyncio.StreamWriter | None) -> None:
    """Close every writer first, then wait: a cancellation while waiting must not leave one open."""
    for writer in writers:
        if writer is not None:
            writer.close()
    for writer in writers:
        if writer is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()
