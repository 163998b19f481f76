"""The parent side of sync, the same on the hub and on a district node: enrolment, pull, push, digest, repair.

Nothing here knows HTTP; `shared.sync.http` maps these calls to routes.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import String, Uuid, any_, bindparam, insert, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased

from shared.db.engine import Database, asyncpg_of, fetch
from shared.settings import SyncSettings
from shared.sync import store
from shared.sync.protocol import (
    DigestRequest,
    DigestResponse,
    EnrolRequest,
    EnrolResponse,
    PullRequest,
    PullResponse,
    PushRequest,
    PushResponse,
    Refused,
    RepairRequest,
    RepairResponse,
    Stale,
    TypeDigest,
    batches_of,
    identify,
    raw_array,
    split_batch,
)
from shared.sync.registry import Audience, Record, RecordType, Registry
from shared.sync.store import Scope
from shared.sync.tables import ChildNode, EnrolmentCode, FeedCounter, Identity, UnitRow

# The push path's statements, built once (building them per request was a visible share of a burst's CPU).
_UNITS = select(UnitRow.id, UnitRow.path, UnitRow.depth).where(UnitRow.id.in_(bindparam("ids", expanding=True)))
_UNITS_ANY = select(UnitRow.id, UnitRow.path, UnitRow.depth).where(
    UnitRow.id == any_(bindparam("ids", type_=ARRAY(Uuid())))
)
_AUTH = (
    select(ChildNode.secret_hash, ChildNode.revoked_at, UnitRow.id, UnitRow.path, UnitRow.depth)
    .join(UnitRow, UnitRow.id == ChildNode.unit)
    .where(ChildNode.id == bindparam("node"))
)
_SUBTREE = select(UnitRow.id, UnitRow.path).where(UnitRow.path.startswith(bindparam("path"))).order_by(UnitRow.id)
_HEAD = select(FeedCounter.last).where(FeedCounter.id == 1)
# Every unit related to a child's place: its subtree (owners it may hold) and its ancestors (audiences above it).
_PATH = bindparam("path", type_=String())
_REACH = select(UnitRow.id, UnitRow.path).where(
    or_(UnitRow.path.startswith(_PATH), _PATH.startswith(UnitRow.path, autoescape=False))
)
# The push's bookkeeping in one statement on PostgreSQL: the acked cursor as it was, and the row updated.
_PUSHED_PG = """
WITH old AS (SELECT acked_push FROM child_nodes WHERE id = $1 FOR UPDATE)
UPDATE child_nodes SET acked_push = GREATEST(old.acked_push, $2), last_push = $3, last_contact = $3,
    child_pending = $4, rejected = $5, protocol = $6, software = $7
FROM old WHERE child_nodes.id = $1
RETURNING old.acked_push
"""
_ACKED = select(ChildNode.acked_push).where(ChildNode.id == bindparam("node"))
_PUSHED = (
    update(ChildNode)
    .where(ChildNode.id == bindparam("node"))
    .values(
        {
            name: bindparam(name)
            for name in (
                "acked_push",
                "last_push",
                "last_contact",
                "child_pending",
                "rejected",
                "protocol",
                "software",
            )
        }
    )
)


class SyncError(Exception):
    """A refusal with an HTTP status, a stable code and plain words in Vietnamese and English."""

    def __init__(self, status: int, code: str, message_vi: str, message_en: str, **detail: Any) -> None:
        super().__init__(message_en)
        self.status = status
        self.code = code
        self.message_vi = message_vi
        self.message_en = message_en
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Child:
    """An authenticated child node and where its unit stands in the tree now."""

    node_id: uuid.UUID
    unit: uuid.UUID
    path: str
    depth: int


def utcnow() -> datetime:
    return datetime.now(UTC)


def _digest_secret(secret: str) -> bytes:
    # Credentials are 256-bit random strings: a plain hash suffices (argon2 is for human passwords).
    return hashlib.sha256(secret.encode()).digest()


def _new_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(10)).decode().rstrip("=")
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def _normalise_code(code: str) -> str:
    flat = "".join(ch for ch in code.upper() if ch.isalnum())
    return "-".join(flat[i : i + 4] for i in range(0, len(flat), 4))


class Parent:
    """Serves the children of this instance's unit."""

    def __init__(
        self, db: Database, registry: Registry, settings: SyncSettings, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.db = db
        self.registry = registry
        self.settings = settings
        self.clock = clock
        self._auth_cache: dict[str, tuple[float, Child]] = {}
        self._activity: dict[uuid.UUID, dict[str, Any]] = {}
        self._token_cache: dict[tuple[uuid.UUID, str], tuple[float, str]] = {}
        self._reach_cache: dict[uuid.UUID, tuple[float, Scope]] = {}
        self._my_unit: tuple[float, tuple[uuid.UUID, str, int]] | None = None
        # Pushes serialise on the feed counter's row lock until commit; more of them in flight than this per
        # process only hold pooled connections while they wait, starving the pulls of connections in a burst.
        self._writers = asyncio.Semaphore(max(1, settings.concurrent_pushes))
        self._decoders = {rt.name: msgspec.msgpack.Decoder(rt.struct) for rt in registry}
        signature = ";".join(f"{rt.name}:{rt.ceiling}:{rt.audience.value}" for rt in registry)
        self._registry_signature = signature

    # Identity and tree

    async def my_unit(self) -> tuple[uuid.UUID, str, int]:
        """This instance's unit (the root, on the hub) with its path and depth.

        Cached for `SyncSettings.cache_seconds` like credentials: every push asks, and it changes only when the
        tree is reorganised (two queries per push otherwise).
        """
        cached = self._my_unit
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        found = await self._load_my_unit()
        self._my_unit = (time.monotonic() + self.settings.cache_seconds, found)
        return found

    async def _load_my_unit(self) -> tuple[uuid.UUID, str, int]:
        async with self.db.read() as conn:
            ident = (await conn.execute(select(Identity.unit))).scalar_one_or_none()
            if ident is None:
                row = (
                    await conn.execute(
                        select(UnitRow.id, UnitRow.path, UnitRow.depth).where(
                            UnitRow.parent.is_(None), UnitRow.valid_to.is_(None)
                        )
                    )
                ).first()
            else:
                row = (
                    await conn.execute(select(UnitRow.id, UnitRow.path, UnitRow.depth).where(UnitRow.id == ident))
                ).first()
        if row is None:
            raise SyncError(
                503,
                "no_tree",
                "Máy chủ chưa có cây đơn vị; hãy nhập danh sách đơn vị trước.",
                "This instance has no unit tree yet; import the units first.",
            )
        return row.id, row.path, row.depth

    async def scope_token(self, conn: Any, child: Child, types: Sequence[str]) -> str:
        """Names the scope a cursor was earned under: the child's place, its subtree's shape, the types' rules.

        A unit moved into or out of the child's subtree, or a type the child learns, changes the token, and the
        child then re-syncs by digest instead of trusting its cursor. Cached briefly per child: a move is seen
        within `SyncSettings.cache_seconds`.
        """
        known = ";".join(sorted(set(types) & set(self.registry.names())))
        key = (child.unit, known)
        cached = self._token_cache.get(key)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        shape = hashlib.sha256()
        for unit, path in await fetch(conn, _SUBTREE, {"path": child.path}):
            shape.update(f"{unit}{path}".encode())
        token = hashlib.sha256(
            f"{child.path}|{self._registry_signature}|{known}|{shape.hexdigest()}".encode()
        ).hexdigest()[:24]
        self._token_cache[key] = (time.monotonic() + self.settings.cache_seconds, token)
        return token

    def _types(self, names: Sequence[str]) -> Registry:
        """The registry restricted to the types a child knows (all, for a child that does not say)."""
        if not names:
            return self.registry
        wanted = set(names)
        return Registry(*(rt for rt in self.registry if rt.name in wanted))

    # Enrolment and credentials

    async def issue_code(self, unit: uuid.UUID, ttl: timedelta = timedelta(days=3)) -> str:
        """A one-time code for a node of `unit` (which must be below this instance's unit)."""
        me, my_path, _ = await self.my_unit()
        async with self.db.write() as conn:
            row = (await conn.execute(select(UnitRow.path, UnitRow.valid_to).where(UnitRow.id == unit))).first()
            if row is None or row.valid_to is not None or unit == me or not row.path.startswith(my_path):
                raise SyncError(
                    404,
                    "unit_not_below",
                    "Đơn vị này không thuộc phạm vi của máy chủ này (hoặc đã giải thể).",
                    "That unit is not below this instance's unit (or no longer exists).",
                )
            code = _new_code()
            await conn.execute(
                insert(EnrolmentCode).values(
                    code_hash=_digest_secret(code), unit=unit, expires_at=self.clock() + ttl, used_at=None
                )
            )
        return code

    async def enrol(self, req: EnrolRequest) -> EnrolResponse:
        code_hash = _digest_secret(_normalise_code(req.code))
        now = self.clock()
        my_unit, _, _ = await self.my_unit()
        async with self.db.write() as conn:
            row = (await conn.execute(select(EnrolmentCode).where(EnrolmentCode.code_hash == code_hash))).first()
            if row is None or row.used_at is not None:
                raise SyncError(
                    403,
                    "bad_code",
                    "Mã đăng ký không đúng hoặc đã được dùng. Hãy xin cấp trên một mã mới.",
                    "The enrolment code is wrong or already used. Ask the parent for a new one.",
                )
            if _aware(row.expires_at) <= now:
                raise SyncError(
                    403,
                    "expired_code",
                    "Mã đăng ký đã hết hạn. Hãy xin cấp trên một mã mới.",
                    "The enrolment code has expired. Ask the parent for a new one.",
                )
            await conn.execute(update(EnrolmentCode).where(EnrolmentCode.code_hash == code_hash).values(used_at=now))
            unit = (
                await conn.execute(select(UnitRow.id, UnitRow.code, UnitRow.name).where(UnitRow.id == row.unit))
            ).one()
            node_id = uuid.uuid4()
            secret = secrets.token_urlsafe(32)
            await conn.execute(
                insert(ChildNode).values(
                    id=node_id,
                    unit=row.unit,
                    secret_hash=_digest_secret(secret),
                    label=req.label[:200],
                    enrolled_at=now,
                    software=req.software[:40],
                    protocol=req.protocol,
                    acked_push=0,
                    pull_cursor=0,
                    child_pending=0,
                    rejected=0,
                )
            )
        return EnrolResponse(
            node_id=node_id,
            credential=f"{node_id}.{secret}",
            unit=unit.id,
            unit_code=unit.code,
            unit_name=unit.name,
            parent_unit=my_unit,
        )

    async def rotate(self, node_id: uuid.UUID) -> str:
        """A new credential for a node; the old one stops working at once."""
        secret = secrets.token_urlsafe(32)
        async with self.db.write() as conn:
            result = await conn.execute(
                update(ChildNode)
                .where(ChildNode.id == node_id, ChildNode.revoked_at.is_(None))
                .values(secret_hash=_digest_secret(secret))
            )
        if result.rowcount == 0:
            raise SyncError(404, "no_node", "Không có nút này (hoặc đã bị thu hồi).", "No such active node.")
        self._auth_cache.clear()
        return f"{node_id}.{secret}"

    async def revoke(self, node_id: uuid.UUID) -> None:
        async with self.db.write() as conn:
            await conn.execute(update(ChildNode).where(ChildNode.id == node_id).values(revoked_at=self.clock()))
        self._auth_cache.clear()

    async def authenticate(self, authorization: str | None) -> Child:
        scheme, _, token = (authorization or "").partition(" ")
        cached = self._auth_cache.get(token)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        refused = SyncError(
            401,
            "bad_credential",
            "Thông tin xác thực của nút không hợp lệ hoặc đã bị thu hồi. Hãy đăng ký lại nút với mã mới.",
            "The node credential is invalid or revoked. Enrol the node again with a new code.",
        )
        node_part, _, secret = token.partition(".")
        if scheme.lower() != "bearer" or not secret:
            raise refused
        try:
            node_id = uuid.UUID(node_part)
        except ValueError:
            raise refused from None
        async with self.db.read(single=True) as conn:
            rows = await fetch(conn, _AUTH, {"node": node_id})
        if not rows:
            raise refused
        secret_hash, revoked_at, unit, path, depth = rows[0]
        if revoked_at is not None or not hmac.compare_digest(secret_hash, _digest_secret(secret)):
            raise refused
        child = Child(node_id=node_id, unit=unit, path=path, depth=depth)
        self._auth_cache[token] = (time.monotonic() + self.settings.cache_seconds, child)
        return child

    # Pull

    def pull_scope(self, child: Child) -> Scope:
        return Scope(unit=child.unit, path=child.path, down=True, up=True, exclude_origin=child.unit)

    async def scoped_pull_scope(self, conn: Any, child: Child) -> Scope:
        """`pull_scope` with the units it can reach, so the scan reads only rows the child may hold.

        Cached like the scope token, and for the same reason: a move of a unit is seen within
        `SyncSettings.cache_seconds`, and the token changes with it (so the cursor is not trusted across it).
        """
        cached = self._reach_cache.get(child.unit)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        rows = await fetch(conn, _REACH, {"path": child.path})
        owners = tuple(unit for unit, path in rows if path.startswith(child.path))
        scope = Scope(
            unit=child.unit,
            path=child.path,
            down=True,
            up=True,
            exclude_origin=child.unit,
            owners=owners or (child.unit,),
            audiences=tuple(unit for unit, _ in rows),
        )
        self._reach_cache[child.unit] = (time.monotonic() + self.settings.cache_seconds, scope)
        return scope

    async def pull(self, child: Child, req: PullRequest) -> PullResponse:
        limit = min(req.limit or self.settings.batch_rows, self.settings.batch_rows)
        async with self.db.read() as conn:
            head = int((await fetch(conn, _HEAD, {}))[0][0])
            token = await self.scope_token(conn, child, req.types or self.registry.names())
            if req.cursor > head or (req.cursor > 0 and req.scope != token):
                # The cursor means nothing here: the child's scope changed, or this parent was restored.
                return PullResponse(cursor=req.cursor, more=False, scope=token, batches=[], rescope=True)
            if req.cursor == head:
                return PullResponse(cursor=head, more=False, scope=token, batches=[])
            scope = await self.scoped_pull_scope(conn, child)
            found = await store.scan_wires(
                conn, self._types(req.types), scope, after=req.cursor, upto=head, limit=limit
            )
        batches, cursor, cut = batches_of(found, self.settings.batch_bytes)
        more = cut or len(found) >= limit
        if not more:
            cursor = head
        self._touch(child, pull_cursor=cursor)
        return PullResponse(cursor=cursor, more=more, scope=token, batches=batches)

    # Push

    async def push(self, child: Child, req: PushRequest) -> PushResponse:
        """Apply a child's batch in one transaction; see docs/sync-protocol.md for the guarantees."""
        _, _, my_depth = await self.my_unit()
        refused: list[Refused] = []
        decoded: list[tuple[RecordType, list[Record], list[bytes]]] = []
        for batch in req.batches:
            try:
                wires = split_batch(batch)
            except msgspec.DecodeError as exc:
                raise SyncError(
                    400,
                    "bad_message",
                    f"Lô dữ liệu “{batch.type}” bị hỏng ({exc}); không có gì được ghi.",
                    f"The {batch.type!r} batch is corrupt ({exc}); nothing was applied.",
                ) from None
            rt = self.registry.get(batch.type)
            if rt is None:
                for wire in wires:
                    rid, rev = identify(wire)
                    reason = f"Loại bản ghi “{batch.type}” chưa được máy chủ cấp trên hỗ trợ; hãy nâng cấp cấp trên"
                    refused.append(Refused(batch.type, rid or uuid.UUID(int=0), rev, reason))
                continue
            try:
                # The whole batch in one call (decoding was the largest share of a push in py-spy), bulk types as
                # views with UUIDs left as bytes; only a batch holding an invalid record is decoded again record by
                # record, to refuse just those.
                batch_decoder = rt.view_decoder if rt.bulk else rt.batch_decoder
                decoded.append((rt, batch_decoder.decode(batch.rows), wires))
                continue
            except msgspec.ValidationError:
                pass
            records, good_wires = [], []
            decode = self._decoders[rt.name].decode
            for wire in wires:
                try:
                    records.append(decode(wire))
                    good_wires.append(wire)
                except msgspec.ValidationError as exc:
                    rid, rev = identify(wire)
                    refused.append(Refused(rt.name, rid or uuid.UUID(int=0), rev, f"Dữ liệu không hợp lệ: {exc}"))
            decoded.append((rt, records, good_wires))
        owners = {rec.owner for _, recs, _ in decoded for rec in recs} | {
            rec.audience for _, recs, _ in decoded for rec in recs if rec.audience is not None
        }
        async with self._writers, self.db.write() as conn:
            units = await self._units(conn, {store.as_uuid(o) for o in owners})
            outside = [
                store.as_uuid(rec.id)
                for _, recs, _ in decoded
                for rec in recs
                if rec.owner not in units or not units[rec.owner][0].startswith(child.path)
            ]
            if outside:
                raise SyncError(
                    403,
                    "outside_subtree",
                    f"Nút đã gửi {len(outside)} bản ghi của đơn vị ngoài phạm vi của mình; toàn bộ lô bị từ chối.",
                    f"The node sent {len(outside)} records owned outside its subtree; the whole batch is refused.",
                    records=[str(i) for i in outside[:20]],
                )
            checked: list[tuple[RecordType, list[Record], list[bytes]]] = []
            for rt, recs, wires in decoded:
                ok: list[Record] = []
                ok_wires: list[bytes] = []
                for rec, wire in zip(recs, wires, strict=True):
                    reason = self._check(rt, rec, units, my_depth)
                    if reason:
                        refused.append(Refused(rt.name, store.as_uuid(rec.id), rec.rev, reason))
                    else:
                        ok.append(rec)
                        ok_wires.append(wire)
                checked.append((rt, ok, ok_wires))
            # The node's bookkeeping first: `apply` takes the feed counter's lock, held until commit, so whatever
            # runs after it delays every other writer.
            node = await self._pushed(conn, child, req, len(refused))
            stored = ignored = 0
            stale: list[Stale] = []
            for rt, ok, ok_wires in checked:
                result = await store.apply(conn, rt, ok, origin=child.unit, wires=ok_wires)
                stored += len(result.stored)
                ignored += len(result.ignored)
                stale.extend(await self._stale(conn, rt, ok, ok_wires, result.ignored, child.unit))
        return PushResponse(
            acked=req.upto,
            stored=stored,
            ignored=ignored,
            refused=refused,
            stale=stale,
            repair=req.after < node,
        )

    async def _units(self, conn: Any, ids: set[uuid.UUID]) -> dict[Any, tuple[str, int]]:
        """(path, depth) of each unit held here, keyed by its UUID and by its bytes (what record views carry)."""
        out: dict[Any, tuple[str, int]] = {}
        id_list = list(ids)
        if not id_list:
            return out
        if conn.dialect.name == "postgresql":
            for unit, path, depth in await fetch(conn, _UNITS_ANY, {"ids": id_list}):
                out[unit] = out[unit.bytes] = (path, depth)
            return out
        for i in range(0, len(id_list), 500):
            rows = await conn.execute(_UNITS, {"ids": id_list[i : i + 500]})
            for r in rows:
                out[r.id] = out[r.id.bytes] = (r.path, r.depth)
        return out

    async def _pushed(self, conn: Any, child: Child, req: PushRequest, rejected: int) -> int:
        """Note the push on the child's row; returns what the child had pushed before (its acked cursor)."""
        now = self.clock()
        values = {
            "node": child.node_id,
            "upto": req.upto,
            "now": now,
            "child_pending": req.pending,
            "rejected": rejected,
            "protocol": req.protocol,
            "software": req.software[:40] or None,
        }
        raw = await asyncpg_of(conn)
        if raw is not None:  # one round trip for the read and the write
            return int(await raw.fetchval(_PUSHED_PG, *values.values()))
        node = int((await conn.execute(_ACKED, {"node": child.node_id})).scalar_one())
        await conn.execute(
            _PUSHED, {**values, "acked_push": max(node, req.upto), "last_push": now, "last_contact": now}
        )
        return node

    def _check(self, rt: RecordType, rec: Record, units: dict[Any, tuple[str, int]], my_depth: int) -> str:
        """The reason a record from a child is refused here, or "" (ceiling, audience rule, domain rule)."""
        owner_path, owner_depth = units[rec.owner]
        if not rt.may_reach(owner_depth, my_depth):
            return f"Loại bản ghi “{rt.name}” không được gửi lên quá {rt.ceiling} cấp trên đơn vị sở hữu"
        if rt.audience is Audience.NONE and rec.audience is not None:
            return f"Loại bản ghi “{rt.name}” chỉ gửi lên cấp trên, không được có đơn vị nhận"
        if rt.audience is Audience.OWNER and rec.audience != rec.owner:
            return "Đơn vị nhận phải là chính đơn vị sở hữu bản ghi"
        if rt.audience is Audience.OWNER_SUBTREE and rec.audience is not None:
            target = units.get(rec.audience)
            if target is None or not target[0].startswith(owner_path):
                return "Đơn vị nhận phải thuộc phạm vi của đơn vị sở hữu bản ghi"
        if rt.validate is not None and not rec.deleted:
            return rt.validate(rec) or ""
        return ""

    async def _stale(
        self,
        conn: Any,
        rt: RecordType,
        sent: list[Record],
        wires: list[bytes],
        ignored: list[Any],
        child_unit: uuid.UUID,
    ) -> list[Stale]:
        """Ignored records of the child's own unit that differ from what is held: the child went back in time."""
        if not ignored:
            return []
        own = (child_unit, child_unit.bytes)  # records or their views (UUIDs as bytes)
        mine = {rec.id: (rec, wire) for rec, wire in zip(sent, wires, strict=True) if rec.owner in own}
        candidates = [i for i in ignored if i in mine]
        if not candidates:
            return []
        held = await store.held_versions(conn, rt, candidates)
        out = []
        for rid in candidates:
            rev, digest = held[rid]
            rec, wire = mine[rid]
            if rev > rec.rev or store.wire_hash(wire) != digest:
                out.append(Stale(rt.name, store.as_uuid(rid), rev))
        return out

    # Verify and repair

    def digest_scope(self, child: Child, parent_depth: int) -> Scope:
        return Scope(
            unit=child.unit, path=child.path, down=True, up=True, exclude_own=False, ceiling_depth=parent_depth
        )

    async def digest(self, child: Child, req: DigestRequest) -> DigestResponse:
        _, _, my_depth = await self.my_unit()
        scope = self.digest_scope(child, my_depth)
        async with self.db.read() as conn:
            head = await store.head(conn)
            types = [
                TypeDigest(rt.name, await store.digest(conn, rt, scope, buckets=req.buckets))
                for rt in self._types(req.types)
            ]
            token = await self.scope_token(conn, child, req.types or self.registry.names())
        return DigestResponse(head=head, scope=token, types=types)

    async def repair(self, child: Child, req: RepairRequest) -> RepairResponse:
        rt = self.registry.get(req.type)
        if rt is None or req.buckets <= 0:
            raise SyncError(400, "bad_repair", "Yêu cầu đối chiếu không hợp lệ.", "Invalid repair request.")
        _, _, my_depth = await self.my_unit()
        scope = self.digest_scope(child, my_depth)
        async with self.db.read() as conn:
            here = await store.versions_in(conn, rt, scope, req.bucket_ids, req.buckets)
            # What the child holds in those buckets may sit in other buckets here (another version): look it up.
            extra = [rid for rid in req.held if rid not in here]
            if extra:
                here.update(await store.versions_of(conn, rt, scope, extra))
            owners = await self._owners(conn, rt, set(here))
            send: list[uuid.UUID] = []
            absent: list[uuid.UUID] = []
            push: list[Stale] = []
            for rid in set(req.held) | set(here):
                mine, theirs = here.get(rid), req.held.get(rid)
                if mine is None:
                    absent.append(rid)
                elif theirs is None or theirs[0] < mine[0]:
                    send.append(rid)
                elif theirs[0] == mine[0] and theirs[1] != mine[1]:
                    # Same rev, other content: only a restored owner makes that, and its newer edit wins.
                    (push.append(Stale(rt.name, rid, mine[0])) if owners[rid][1] == child.unit else send.append(rid))
                elif theirs[0] > mine[0] and owners[rid][0].startswith(child.path):
                    push.append(Stale(rt.name, rid, mine[0]))
            rows = [wire for _, wire in await store.fetch_wire(conn, rt, send)]
        return RepairResponse(type=rt.name, rows=raw_array(rows), absent=absent, push=push)

    async def _owners(self, conn: Any, rt: RecordType, ids: set[uuid.UUID]) -> dict[uuid.UUID, tuple[str, uuid.UUID]]:
        """(owner's path, owner's id) of each record held here."""
        out: dict[uuid.UUID, tuple[str, uuid.UUID]] = {}
        table = rt.table
        owner = aliased(UnitRow.__table__, name="o")
        id_list = list(ids)
        for i in range(0, len(id_list), 500):
            rows = await conn.execute(
                select(table.c.id, owner.c.path, owner.c.id.label("owner_id"))
                .select_from(table.join(owner, owner.c.id == table.c.owner))
                .where(table.c.id.in_(id_list[i : i + 500]))
            )
            out.update({r.id: (r.path, r.owner_id) for r in rows})
        return out

    # Observability

    def _touch(self, child: Child, **values: Any) -> None:
        """Note a child's contact in memory: a no-op pull costs no write; `flush_activity` stores it."""
        now = self.clock()
        entry = self._activity.setdefault(child.node_id, {})
        entry.update(values, last_contact=now)
        if "pull_cursor" in values:
            entry["last_pull"] = now

    async def flush_activity(self) -> None:
        """Store the contacts noted since the last flush (called every few seconds and at shutdown)."""
        if not self._activity:
            return
        pending, self._activity = self._activity, {}
        # One executemany per set of columns noted (asyncpg pipelines it), not a statement built and run per node:
        # that was ~2 % of a hub worker's CPU in a burst.
        shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for node_id, values in pending.items():
            shapes.setdefault(tuple(sorted(values)), []).append({"_node": node_id, **values})
        async with self.db.write() as conn:
            for names, rows in shapes.items():
                stmt = _touched(names)
                await conn.execute(stmt, rows)

    async def nodes(self) -> list[dict[str, Any]]:
        """Per child node: unit, last contact, last push and pull, rows pending, refused records, lag, protocol."""
        await self.flush_activity()
        async with self.db.read() as conn:
            head = await store.head(conn)
            rows = (
                await conn.execute(
                    select(ChildNode, UnitRow.code.label("unit_code"), UnitRow.name.label("unit_name"))
                    .join(UnitRow, UnitRow.id == ChildNode.unit)
                    .order_by(UnitRow.path)
                )
            ).all()
        return [
            {
                "node_id": str(n.id),
                "unit": str(n.unit),
                "unit_code": n.unit_code,
                "unit_name": n.unit_name,
                "label": n.label,
                "enrolled_at": n.enrolled_at,
                "revoked": n.revoked_at is not None,
                "last_contact": n.last_contact,
                "last_push": n.last_push,
                "last_pull": n.last_pull,
                "protocol": n.protocol,
                "software": n.software,
                "pending_at_node": n.child_pending,
                "refused_last_push": n.rejected,
                "behind_by": max(head - n.pull_cursor, 0),
            }
            for n in rows
        ]


@functools.cache
def _touched(names: tuple[str, ...]) -> Any:
    return update(ChildNode).where(ChildNode.id == bindparam("_node")).values({n: bindparam(n) for n in names})


def _aware(moment: datetime) -> datetime:
    # SQLite returns naive datetimes for timezone-aware columns; they were written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
