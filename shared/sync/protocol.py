"""Every message of the sync protocol, one module-level encoder and decoder, and the body codec.

Evolution rules (msgspec): new fields go last with defaults, a field's type never changes, unknown fields are
ignored, so an older node can talk to a newer parent within the same PROTOCOL major version.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import msgspec
import zstandard

PROTOCOL = 1
"""Bumped only for a change older peers cannot read; a request with another value is refused in plain words."""
MIN_PROTOCOL = 1

MEDIA_TYPE = "application/vnd.nqsync+msgpack"
PROTOCOL_HEADER = "X-Nqsync-Protocol"


class Msg(msgspec.Struct, tag_field="msg"):
    """A top-level message; its tag names it on the wire."""


class Batch(msgspec.Struct, array_like=True):
    """Records of one type: `rows` is the msgpack array of their wire structs, decoded by the type's decoder."""

    type: str
    rows: msgspec.Raw


class PullRequest(Msg, tag="pull"):
    protocol: int
    cursor: int
    scope: str = ""
    limit: int = 0
    software: str = ""
    types: list[str] = []
    """Record types the child knows; only those are sent, and learning a new one (an upgrade) changes the scope."""
    pushed: int | msgspec.UnsetType = msgspec.UNSET
    """The child's push cursor, so a child with nothing to push that went back (its file copied back from a backup)
    is found out at its next pull, not only by a push. Unset (not on the wire) from nodes before it."""


class PullResponse(Msg, tag="pulled"):
    cursor: int
    more: bool
    scope: str
    batches: list[Batch]
    rescope: bool = False
    """The scope this child's cursor was earned under has changed: run a repair (verify) before pulling on."""
    acked: int | msgspec.UnsetType = msgspec.UNSET
    """The child's push cursor as acknowledged here, sent only when the request's `pushed` is below it: the child
    went back (its file copied back from a backup). It verifies and pushes on from there (`Pulling._catch_up`)."""


class PushRequest(Msg, tag="push"):
    protocol: int
    after: int
    """The child's push cursor: every row of its up to this seq has been acknowledged."""
    upto: int
    """The child's seq this batch covers; the parent acknowledges it."""
    batches: list[Batch]
    pending: int = 0
    """Rows the child still has to push after this batch (observability only)."""
    software: str = ""


class Refused(msgspec.Struct, array_like=True):
    """One record the parent would not store, and why (shown to the node's users until they fix it)."""

    type: str
    id: uuid.UUID
    rev: int
    reason: str


class Stale(msgspec.Struct, array_like=True):
    """A record of the child's own unit that the parent holds at `rev` or newer: the child lost edits (restore)."""

    type: str
    id: uuid.UUID
    rev: int


class PushResponse(Msg, tag="pushed"):
    acked: int
    stored: int
    ignored: int
    refused: list[Refused] = []
    stale: list[Stale] = []
    repair: bool = False
    """The parent has acknowledged more of this child's feed than the child thinks: verify against the parent."""


class DigestRequest(Msg, tag="digest"):
    protocol: int
    buckets: int = 0
    types: list[str] = []


class TypeDigest(msgspec.Struct, array_like=True):
    type: str
    buckets: dict[int, tuple[int, int]]
    """bucket -> (row count, sum of row hashes)."""


class DigestResponse(Msg, tag="digested"):
    head: int
    """The parent's committed feed head when the digest was taken; pulling on from it misses nothing."""
    scope: str
    types: list[TypeDigest]


class RepairRequest(Msg, tag="repair"):
    """The child's versions in the buckets that differ; the parent answers with what the child must change."""

    protocol: int
    type: str
    buckets: int
    bucket_ids: list[int]
    held: dict[uuid.UUID, tuple[int, int]]
    """id -> (rev, hash) of what the child holds in those buckets."""


class RepairResponse(Msg, tag="repaired"):
    type: str
    rows: msgspec.Raw
    """Records the child lacks or holds at an older or different version."""
    absent: list[uuid.UUID]
    """Ids the child holds that are not in its scope here: pushed again if owned in its subtree, else purged."""
    push: list[Stale]
    """Records of the child's subtree the parent lacks (rev -1) or holds at `rev`: the child must push them again."""


class EnrolRequest(Msg, tag="enrol"):
    protocol: int
    code: str
    label: str = ""
    software: str = ""


class EnrolResponse(Msg, tag="enrolled"):
    node_id: uuid.UUID
    credential: str
    unit: uuid.UUID
    unit_code: str
    unit_name: str
    parent_unit: uuid.UUID | None


class Problem(msgspec.Struct):
    """An error any endpoint returns: a stable code, plain words in Vietnamese and in English."""

    code: str
    message_vi: str
    message_en: str
    detail: dict[str, Any] = {}


Message = (
    PullRequest
    | PullResponse
    | PushRequest
    | PushResponse
    | DigestRequest
    | DigestResponse
    | RepairRequest
    | RepairResponse
    | EnrolRequest
    | EnrolResponse
)

encoder = msgspec.msgpack.Encoder(uuid_format="bytes")
decoder: msgspec.msgpack.Decoder[Message] = msgspec.msgpack.Decoder(Message)

_zc = zstandard.ZstdCompressor(level=3)
_zd = zstandard.ZstdDecompressor()


def raw_array(items: Sequence[bytes]) -> msgspec.Raw:
    """A msgpack array built from already-encoded items, so records are encoded once when batches are sized."""
    n = len(items)
    if n < 16:
        header = bytes([0x90 | n])
    elif n < 1 << 16:
        header = b"\xdc" + n.to_bytes(2, "big")
    else:
        header = b"\xdd" + n.to_bytes(4, "big")
    return msgspec.Raw(header + b"".join(items))


def batches_of(items: Sequence[tuple[int, str, bytes]], max_bytes: int) -> tuple[list[Batch], int, bool]:
    """Group (seq, type, wire) items, in seq order, into batches within `max_bytes`.

    Returns the batches, the last seq included, and whether the budget cut the list short.
    """
    grouped: dict[str, list[bytes]] = {}
    size = last = 0
    for seq, type_name, wire in items:
        if size and size + len(wire) > max_bytes:
            return [Batch(t, raw_array(w)) for t, w in grouped.items()], last, True
        grouped.setdefault(type_name, []).append(wire)
        size += len(wire)
        last = seq
    return [Batch(t, raw_array(w)) for t, w in grouped.items()], last, False


_items = msgspec.msgpack.Decoder(list[msgspec.Raw])
_any = msgspec.msgpack.Decoder()


def split_batch(batch: Batch) -> list[bytes]:
    """The wire form of each record in a batch; raises msgspec.DecodeError on a corrupt batch."""
    return [bytes(item) for item in _items.decode(batch.rows)]


def identify(wire: bytes) -> tuple[uuid.UUID | None, int]:
    """Best-effort (id, rev) of a record that failed to decode, to name it in a refusal."""
    try:
        row = _any.decode(wire)
        rid = row[0]
        return (uuid.UUID(bytes=rid) if isinstance(rid, bytes) else uuid.UUID(str(rid))), int(row[3])
    except (msgspec.DecodeError, ValueError, TypeError, IndexError, KeyError, RecursionError):
        return None, 0


def pack(message: Any, *, compress: bool = True) -> bytes:
    body = encoder.encode(message)
    return _zc.compress(body) if compress else body


class BodyTooLarge(ValueError):
    """A compressed body that inflates past the limit (a zstd bomb, or a batch too big for this parent)."""


def unpack_body(body: bytes, *, compressed: bool, max_bytes: int) -> bytes:
    """The raw msgpack of a request or response body, refusing to inflate past `max_bytes`.

    Streamed in chunks so a bomb costs at most `max_bytes` of memory, whatever its frame header claims; a corrupt
    frame raises ValueError (zstandard's own error is not one).
    """
    if not compressed:
        return body
    out = bytearray()
    try:
        reader = _zd.stream_reader(body, read_across_frames=True)
        while chunk := reader.read(_CHUNK):
            out += chunk
            if len(out) > max_bytes:
                raise BodyTooLarge(f"decompressed body exceeds {max_bytes} bytes")
    except zstandard.ZstdError as exc:
        raise ValueError(f"not a zstd body: {exc}") from None
    return bytes(out)


_CHUNK = 1024 * 1024
