"""The child side of sync: one round is push, then pull; verify compares digests with the parent and repairs.

Every step is safe to cut at any point: cursors move only in the transaction that applied what they cover (pull)
or after the parent acknowledged (push), and apply is idempotent, so a retried step never applies twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec
from sqlalchemy import Uuid, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from shared.db.engine import Database
from shared.settings import SyncSettings
from shared.sync import store
from shared.sync.protocol import (
    MEDIA_TYPE,
    PROTOCOL,
    PROTOCOL_HEADER,
    Batch,
    DigestRequest,
    DigestResponse,
    EnrolRequest,
    EnrolResponse,
    Problem,
    PullRequest,
    PullResponse,
    PushRequest,
    PushResponse,
    Refused,
    RepairRequest,
    RepairResponse,
    Stale,
    batches_of,
    decoder,
    identify,
    pack,
    split_batch,
)
from shared.sync.registry import Record, RecordType, Registry
from shared.sync.store import Scope
from shared.sync.tables import FeedCounter, Identity, Rejection, UnitRow, Upstream

SOFTWARE = "nqsync/0.1"
Progress = Callable[[str, int, int], None]
"""Called as (step, done, total) while a round runs; total is 0 when unknown."""


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


@dataclass
class RoundReport:
    pushed: int = 0
    stored_at_parent: int = 0
    refused: list[Refused] = field(default_factory=list)
    pulled: int = 0
    applied: int = 0
    repaired: int = 0
    purged: int = 0
    bumped: int = 0
    verified: bool = False


def _now() -> datetime:
    return datetime.now(UTC)


@functools.cache
def _tls() -> ssl.SSLContext:
    """httpx's default TLS context, built once per process: building it reads the CA bundle, which took ~70 ms
    per round when every round made its own client (most of a no-op round)."""
    return httpx.create_ssl_context()


# Built once: building this select (two aliases of the units table) took 1.7 of the 2 ms `_state` cost per round,
# more than running it; SQLAlchemy's compiled cache spares only the compile.
_ME, _UP = aliased(UnitRow, name="me"), aliased(UnitRow, name="up")
_STATE = (
    select(
        Identity.unit,
        _ME.path,
        _ME.depth,
        _UP.depth.label("parent_depth"),
        Upstream.push_cursor,
        Upstream.pull_cursor,
        Upstream.scope,
        FeedCounter.last,
    )
    .select_from(Identity)
    .join(Upstream, Upstream.url == bindparam("url"))
    .join(FeedCounter, FeedCounter.id == 1)
    .outerjoin(_ME, _ME.id == Identity.unit)
    .outerjoin(_UP, _UP.id == bindparam("parent_unit", type_=Uuid()))
)
_MARK = update(Upstream).where(Upstream.url == bindparam("_url"))
_SYNCED = _MARK.values(last_attempt=bindparam("started"), last_pull=bindparam("now"), last_error=None, failures=0)


class Clients:
    """HTTP clients kept between rounds, one per upstream URL, for a node's sync loop.

    A round then reuses the connection the last round left open (while the parent keeps it alive) and skips
    building a client (proxy settings, connection pool): a new client and TCP connection were ~1,5 ms of a
    no-op round. The owner closes them with `aclose`.
    """

    def __init__(self, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.transport = transport
        self._clients: dict[str, httpx.AsyncClient] = {}

    def get(self, url: str, timeout: float) -> httpx.AsyncClient:
        http = self._clients.get(url)
        if http is None or http.is_closed:
            http = self._clients[url] = _client(url, self.transport, timeout)
        return http

    async def aclose(self) -> None:
        clients, self._clients = self._clients, {}
        for http in clients.values():
            await http.aclose()


def _client(url: str, transport: httpx.AsyncBaseTransport | None, timeout: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, transport=transport, timeout=timeout, verify=_tls())


@dataclass(frozen=True, slots=True)
class _State:
    """What a round needs to know of this node and its upstream, read in one query."""

    unit: uuid.UUID
    path: str | None
    depth: int | None
    parent_depth: int | None
    push_cursor: int
    pull_cursor: int
    scope: str
    head: int


@dataclass(frozen=True, slots=True)
class _PushPlan:
    """One push batch, scanned and encoded: what it covers (`cursor` < seq <= `upto`) and what it carries."""

    cursor: int
    upto: int
    head: int
    batches: list[Batch]
    pending: int
    sent: int


async def _drop(task: asyncio.Task[Any] | None) -> None:
    """Cancel work started ahead that is no longer wanted, and wait until it has let go of its connection."""
    if task is None:
        return
    task.cancel()
    await asyncio.wait([task])  # unlike awaiting the task, never raises its error nor swallows our own cancel
    if not task.cancelled():
        task.exception()  # retrieved: its failure no longer matters


async def enrol(url: str, code: str, label: str, *, transport: httpx.AsyncBaseTransport | None = None) -> EnrolResponse:
    """Exchange a one-time code for a credential at `url`."""
    async with _client(url, transport, 30) as http:
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


class Child:
    """A node's sync with one of its upstreams (its parent, or the hub directly)."""

    def __init__(
        self,
        db: Database,
        registry: Registry,
        settings: SyncSettings,
        upstream: Any,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        progress: Progress | None = None,
        clients: Clients | None = None,
    ) -> None:
        self.db = db
        self.clients = clients
        self.registry = registry
        self.settings = settings
        self.url = upstream.url
        self.credential = upstream.credential
        self.parent_unit = upstream.parent_unit
        self.transport = transport
        self.progress = progress or (lambda step, done, total: None)

    @contextlib.asynccontextmanager
    async def _http(self) -> AsyncIterator[httpx.AsyncClient]:
        """The loop's kept client for this upstream, else one for this round only."""
        timeout = self.settings.request_timeout_seconds
        if self.clients is not None:
            yield self.clients.get(self.url, timeout)
            return
        async with _client(self.url, self.transport, timeout) as http:
            yield http

    async def _me(self, conn: AsyncConnection) -> tuple[uuid.UUID, str | None, int | None, int | None]:
        """This node's unit, its path and depth (None before the tree arrived), and the parent's depth."""
        state = await self._state(conn)
        return state.unit, state.path, state.depth, state.parent_depth

    async def _state(self, conn: AsyncConnection) -> _State:
        """This node's place, its cursors with this upstream and its feed head: one query, as every SQLite
        statement through aiosqlite costs a thread hop and a no-op round should cost next to nothing."""
        row = (await conn.execute(_STATE, {"url": self.url, "parent_unit": self.parent_unit})).first()
        if row is None or row.unit is None:
            raise SyncFailed(
                "Nút chưa được đăng ký cho đơn vị nào (hãy chạy `nqsync node init`).",
                "This node is not enrolled for any unit; run `nqsync node init`.",
                code="not_enrolled",
                status=400,
            )
        return _State(
            unit=row.unit,
            path=None if row.path is None else str(row.path),
            depth=None if row.depth is None else int(row.depth),
            parent_depth=row.parent_depth,
            push_cursor=int(row.push_cursor),
            pull_cursor=int(row.pull_cursor),
            scope=str(row.scope),
            head=int(row.last),
        )

    async def round(self, *, verify: bool = False) -> RoundReport:
        """Push, then pull; the first round pulls first, since pushing needs the tree the pull brings."""
        report = RoundReport()
        started = _now()
        async with self._http() as http:
            try:
                state: _State | None
                async with self.db.read(single=True) as conn:
                    state = await self._state(conn)
                if state.path is None or state.parent_depth is None:
                    await self._pull(http, report)
                    state = None
                repair = await self._push(http, report, state)
                await self._pull(http, report, state)
                if verify or repair:
                    await self._verify(http, report)
            except SyncFailed as exc:
                await self._mark(last_attempt=started, last_error=exc.message_vi, failures=Upstream.failures + 1)
                raise
            except Exception:
                await self._mark(last_attempt=started)
                raise
            # One write per round for the bookkeeping (a pull that brought nothing wrote nothing).
            async with self.db.write() as conn:
                await conn.execute(_SYNCED, {"_url": self.url, "started": started, "now": _now()})
        return report

    async def verify(self) -> RoundReport:
        report = RoundReport()
        async with self._http() as http:
            await self._push(http, report)
            await self._verify(http, report)
        return report

    async def _mark(self, **values: Any) -> None:
        async with self.db.write() as conn:
            await conn.execute(_MARK.values(**values), {"_url": self.url})

    # Push

    async def _push(self, http: httpx.AsyncClient, report: RoundReport, state: _State | None = None) -> bool:
        """Send every row of this node's subtree the parent lacks, batch by batch; True if the parent asks to verify.

        `state`, when the caller has just read it, saves a read when there is nothing to push. One batch is in
        flight at a time and acknowledged in order; the next one is scanned and encoded while the parent applies
        the current one (node and hub then work at once instead of taking turns).
        """
        repair = False
        if state is not None and (state.path is None or state.push_cursor >= state.head):
            return repair
        ahead: asyncio.Task[_PushPlan | None] | None = None
        try:
            plan = await self._plan_push(None)
            while plan is not None:
                if plan.upto < plan.head:
                    ahead = asyncio.create_task(self._plan_push(plan.upto))
                reply = await _post(
                    http,
                    "/sync/v1/push",
                    PushRequest(
                        protocol=PROTOCOL,
                        after=plan.cursor,
                        upto=plan.upto,
                        batches=plan.batches,
                        pending=plan.pending,
                        software=SOFTWARE,
                    ),
                    self.credential,
                )
                assert isinstance(reply, PushResponse)
                async with self.db.write() as conn:
                    await conn.execute(
                        update(Upstream)
                        .where(Upstream.url == self.url, Upstream.push_cursor < reply.acked)
                        .values(push_cursor=reply.acked, last_push=_now())
                    )
                    await self._record_refusals(conn, plan.batches, reply.refused)
                    report.bumped += await self._bump(conn, reply.stale)
                report.pushed += plan.sent
                report.stored_at_parent += reply.stored
                report.refused.extend(reply.refused)
                repair = repair or reply.repair
                self.progress("push", report.pushed, report.pushed + plan.pending)
                if plan.upto >= plan.head and not reply.stale:
                    return repair
                # The batch scanned ahead starts where this one was acknowledged; after a bump (new seqs above its
                # head) or an acknowledgement elsewhere than asked, it is dropped and the next batch read afresh.
                if ahead is not None and not reply.stale and reply.acked == plan.upto:
                    plan, ahead = await ahead, None
                else:
                    await _drop(ahead)
                    ahead = None
                    plan = await self._plan_push(None)
            return repair
        finally:
            await _drop(ahead)

    async def _plan_push(self, after: int | None) -> _PushPlan | None:
        """The next batch to push, from the stored push cursor or from `after`; None when nothing is left."""
        async with self.db.read() as conn:
            now = await self._state(conn)
            path, head = now.path, now.head
            cursor = now.push_cursor if after is None else after
            if path is None or cursor >= head:
                return None
            scope = Scope(
                unit=now.unit,
                path=path,
                down=False,
                up=True,
                exclude_own=False,
                exclude_origin=self.parent_unit,
                ceiling_depth=now.parent_depth,
            )
            limit = self.settings.batch_rows
            items = await store.scan_wires(conn, self.registry, scope, after=cursor, upto=head, limit=limit)
        batches, upto, cut = batches_of(items, self.settings.batch_bytes)
        if not (cut or len(items) >= limit):
            upto = head
        sent = sum(1 for item in items if item[0] <= upto)
        return _PushPlan(cursor, upto, head, batches, 0 if upto == head else head - upto, sent)

    async def _record_refusals(self, conn: AsyncConnection, batches: list[Batch], refused: list[Refused]) -> None:
        """Keep each refusal visible until a later version of that record is accepted."""
        if not refused and (await conn.execute(select(Rejection.record_id).limit(1))).first() is None:
            return  # nothing to clear: spares decoding every sent record's id again (the common case)
        refused_ids = {r.id for r in refused}
        sent_ids = [rid for b in batches for rid in _ids(b)]
        accepted = [rid for rid in sent_ids if rid not in refused_ids]
        for i in range(0, len(accepted), 500):
            await conn.execute(delete(Rejection).where(Rejection.record_id.in_(accepted[i : i + 500])))
        if refused:
            await conn.execute(delete(Rejection).where(Rejection.record_id.in_(list(refused_ids))))
            await conn.execute(
                insert(Rejection),
                [{"record_id": r.id, "type": r.type, "rev": r.rev, "reason": r.reason, "at": _now()} for r in refused],
            )

    async def _bump(self, conn: AsyncConnection, stale: list[Stale]) -> int:
        """This node's own records the parent holds at a rev as high or higher: write them again above that rev.

        Happens after a restore from backup: the node's revs went back, and its new edits would otherwise be
        ignored as duplicates. The node's current content wins, since it is the owner's latest edit.
        """
        count = 0
        by_type: dict[str, list[Stale]] = defaultdict(list)
        for s in stale:
            by_type[s.type].append(s)
        for type_name, items in by_type.items():
            rt = self.registry.get(type_name)
            if rt is None:
                continue
            held = {rec.id: rec for _, rec in await store.fetch(conn, rt, [s.id for s in items])}
            bumped = [
                msgspec.structs.replace(held[s.id], rev=max(held[s.id].rev, s.rev) + 1) for s in items if s.id in held
            ]
            await store.apply(conn, rt, bumped, origin=None)
            count += len(bumped)
        return count

    def _decode(self, rt: RecordType, batch: Batch, *, views: bool = False) -> tuple[list[Record], list[bytes]]:
        """Records from the parent, with their wire forms kept to store and relay as they are."""
        return (rt.view_decoder if views else rt.batch_decoder).decode(batch.rows), split_batch(batch)

    # Pull

    async def _pull(self, http: httpx.AsyncClient, report: RoundReport, state: _State | None = None) -> None:
        """Pull until the parent has nothing more; `state`, if just read, gives the cursor without another read.

        While a batch is applied here, the next one is already asked for from the cursor that batch will leave
        (the parent scans and sends while this node writes); it is dropped unread if applying fails.
        """
        known = (state.pull_cursor, state.scope) if state is not None else None
        ahead: asyncio.Task[PullResponse] | None = None
        try:
            while True:
                if ahead is not None:
                    reply, ahead = await ahead, None
                else:
                    if known is None:
                        async with self.db.read(single=True) as conn:
                            up = (
                                await conn.execute(
                                    select(Upstream.pull_cursor, Upstream.scope).where(Upstream.url == self.url)
                                )
                            ).one()
                        known = (up.pull_cursor, up.scope)
                    reply = await self._ask_pull(http, *known)
                if reply.rescope:
                    await self._verify(http, report, rescope=True)
                    known = None
                    continue
                if not reply.batches and (reply.cursor, reply.scope) == known and not reply.more:
                    return  # nothing new: no write (the round's closing write notes the time of this pull)
                known = (reply.cursor, reply.scope)
                if reply.more:
                    ahead = asyncio.create_task(self._ask_pull(http, *known))
                async with self.db.write() as conn:
                    for batch in reply.batches:
                        rt = self.registry.get(batch.type)
                        if rt is None:
                            continue
                        # Bulk types as views (UUIDs as bytes): stored without making a UUID per field.
                        records, wires = self._decode(rt, batch, views=rt.bulk)
                        report.pulled += len(records)
                        result = await store.apply(conn, rt, records, origin=self.parent_unit, wires=wires)
                        report.applied += len(result.stored)
                    await conn.execute(
                        update(Upstream)
                        .where(Upstream.url == self.url)
                        .values(pull_cursor=reply.cursor, scope=reply.scope, last_pull=_now())
                    )
                self.progress("pull", report.pulled, 0)
                if not reply.more:
                    return
        finally:
            await _drop(ahead)

    async def _ask_pull(self, http: httpx.AsyncClient, cursor: int, scope: str) -> PullResponse:
        reply = await _post(
            http,
            "/sync/v1/pull",
            PullRequest(protocol=PROTOCOL, cursor=cursor, scope=scope, software=SOFTWARE, types=self.registry.names()),
            self.credential,
        )
        assert isinstance(reply, PullResponse)
        return reply

    # Verify and repair

    async def _verify(self, http: httpx.AsyncClient, report: RoundReport, *, rescope: bool = False) -> None:
        """Compare digests over this node's scope with the parent's; fetch, push again or purge what differs.

        Types are taken in registry order, units first, and each local digest is computed after the types before
        it were repaired: a unit that left this node's subtree is forgotten first, and with it every record that
        was in scope only through it.
        """
        buckets = 256
        theirs = await _post(
            http,
            "/sync/v1/digest",
            DigestRequest(protocol=PROTOCOL, buckets=buckets, types=self.registry.names()),
            self.credential,
        )
        assert isinstance(theirs, DigestResponse)
        parent_digests = {td.type: td.buckets for td in theirs.types}
        for rt in self.registry:
            if rt.name not in parent_digests:
                continue
            async with self.db.read() as conn:
                scope = await self._holding_scope(conn)
                local = await store.digest(conn, rt, scope, buckets=buckets)
            remote = parent_digests[rt.name]
            differing = sorted(b for b in set(local) | set(remote) if local.get(b) != remote.get(b))
            for i in range(0, len(differing), 16):
                await self._repair(http, rt, scope, differing[i : i + 16], buckets, report)
            async with self.db.write() as conn:
                report.purged += await store.purge_outside(
                    conn, rt, await self._holding_scope(conn, for_parent=False), scope.unit
                )
        async with self.db.write() as conn:
            values: dict[str, Any] = {"last_verify": _now()}
            if rescope:
                values.update(pull_cursor=theirs.head, scope=theirs.scope)
            await conn.execute(update(Upstream).where(Upstream.url == self.url).values(**values))
        report.verified = True

    async def _holding_scope(self, conn: AsyncConnection, *, for_parent: bool = True) -> Scope:
        """What this node holds: its ancestors' down-records, its subtree's records, its own.

        `for_parent` keeps only what may also be at the parent (the ceiling counted from the parent's depth), which
        is what digests compare; without it, the ceiling counts from this node's depth: what it may keep at all.
        """
        unit, path, depth, parent_depth = await self._me(conn)
        return Scope(
            unit=unit,
            path=path or "/",
            down=True,
            up=True,
            exclude_own=False,
            ceiling_depth=parent_depth if for_parent else depth,
        )

    async def _repair(
        self,
        http: httpx.AsyncClient,
        rt: RecordType,
        scope: Scope,
        bucket_ids: list[int],
        buckets: int,
        report: RoundReport,
    ) -> None:
        async with self.db.read() as conn:
            held = await store.versions_in(conn, rt, scope, bucket_ids, buckets)
        reply = await _post(
            http,
            "/sync/v1/repair",
            RepairRequest(protocol=PROTOCOL, type=rt.name, buckets=buckets, bucket_ids=bucket_ids, held=held),
            self.credential,
        )
        assert isinstance(reply, RepairResponse)
        records, wires = self._decode(rt, Batch(rt.name, reply.rows))
        async with self.db.write() as conn:
            result = await store.apply(conn, rt, records, origin=self.parent_unit, replace_equal=True, wires=wires)
            report.repaired += len(result.stored)
            if reply.absent:
                owners = await store.owner_paths(conn, rt, reply.absent)
                ours = [
                    rid for rid, p in owners.items() if p is not None and p.startswith(scope.path) and scope.path != "/"
                ]
                gone = [rid for rid in reply.absent if rid not in set(ours)]
                await store.restamp(conn, rt, ours)
                await store.purge(conn, rt, gone)
                report.purged += len(gone)
            report.bumped += await self._bump(conn, [s for s in reply.push if s.rev >= 0])
            await store.restamp(conn, rt, [s.id for s in reply.push if s.rev < 0])


def _ids(batch: Batch) -> list[uuid.UUID]:
    return [rid for rid, _ in map(identify, split_batch(batch)) if rid is not None]
