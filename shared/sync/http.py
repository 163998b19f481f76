"""The sync endpoints over HTTP (MessagePack, zstd), the same on the hub and on a district node."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response, Router, post
from litestar.datastructures import State
from litestar.exceptions import InternalServerException

from shared.sync.parent import Parent, SyncError
from shared.sync.protocol import (
    MEDIA_TYPE,
    MIN_PROTOCOL,
    PROTOCOL,
    PROTOCOL_HEADER,
    BodyTooLarge,
    DigestRequest,
    EnrolRequest,
    Message,
    Problem,
    PullRequest,
    PushRequest,
    RepairRequest,
    decoder,
    pack,
    unpack_body,
)

log = logging.getLogger("nqsync.sync")

SOFTWARE_HINT_VI = (
    "Hãy nâng cấp nqsync tại nút này lên phiên bản mới nhất (xem deploy/README.md, mục Nâng cấp) rồi chạy lại."
)


def problem_response(err: SyncError) -> Response[bytes]:
    body = msgspec.json.encode(Problem(err.code, err.message_vi, err.message_en, err.detail))
    return Response(content=body, status_code=err.status, media_type="application/json")


def _check_protocol(request: Request[Any, Any, State]) -> None:
    """Refuse a request without our protocol header, or with a version this parent cannot talk."""
    version = request.headers.get(PROTOCOL_HEADER, "")
    if not version.isdigit():
        raise SyncError(
            400,
            "no_protocol",
            f"Yêu cầu thiếu tiêu đề {PROTOCOL_HEADER}; đây không phải một nút nqsync.",
            f"The request lacks the {PROTOCOL_HEADER} header; this is not an nqsync node.",
        )
    if int(version) < MIN_PROTOCOL:
        raise SyncError(
            426,
            "node_too_old",
            f"Phần mềm ở nút này quá cũ (giao thức {version}, cấp trên cần ≥ {MIN_PROTOCOL}). {SOFTWARE_HINT_VI}",
            f"This node's software is too old (protocol {version}, the parent needs ≥ {MIN_PROTOCOL}). Upgrade nqsync.",
        )
    if int(version) > PROTOCOL:
        raise SyncError(
            426,
            "parent_too_old",
            f"Máy chủ cấp trên dùng phiên bản cũ hơn nút này (giao thức {PROTOCOL} < {version}). "
            "Hãy đề nghị cấp trên nâng cấp nqsync, hoặc tạm dùng phiên bản nqsync cùng với cấp trên.",
            f"The parent runs an older protocol ({PROTOCOL} < {version}). Ask it to upgrade nqsync.",
        )


def _too_big(max_bytes: int, what_vi: str, what_en: str) -> SyncError:
    return SyncError(
        413,
        "too_large",
        f"Gói dữ liệu {what_vi}vượt quá {max_bytes // (1024 * 1024)} MB; không có gì được ghi, "
        "nút sẽ gửi thành nhiều gói nhỏ hơn.",
        f"The body {what_en}exceeds {max_bytes} bytes; nothing was applied, send smaller batches.",
        limit=max_bytes,
    )


async def _read(request: Request[Any, Any, State], max_bytes: int) -> Message:
    """The request's message: refuses an oversize body (before reading it whole), a body inflating past the same
    limit (a zstd bomb), bad bytes and nesting deeper than the interpreter's recursion limit."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise _too_big(max_bytes, "", "")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _too_big(max_bytes, "", "")
        chunks.append(chunk)
    body = b"".join(chunks)
    del chunks
    try:
        raw = unpack_body(body, compressed=request.headers.get("content-encoding") == "zstd", max_bytes=max_bytes)
        del body
        # msgspec has no depth option: it recurses with Py_EnterRecursiveCall, so nesting past the recursion limit
        # (1000 frames) raises RecursionError cleanly instead of overflowing the C stack.
        return decoder.decode(raw)
    except BodyTooLarge:
        raise _too_big(max_bytes, "sau khi giải nén ", "once decompressed ") from None
    except RecursionError:
        raise SyncError(
            400,
            "too_deep",
            "Gói dữ liệu lồng nhau quá sâu (không phải dữ liệu của nqsync); không có gì được ghi.",
            "The message is nested too deeply (not nqsync data); nothing was applied.",
        ) from None
    except (msgspec.DecodeError, ValueError) as exc:
        raise SyncError(
            400,
            "bad_message",
            f"Gói dữ liệu bị hỏng hoặc không đúng định dạng ({exc}); không có gì được ghi.",
            f"The message is corrupt or malformed ({exc}); nothing was applied.",
        ) from None


def _reply(message: Any) -> Response[bytes]:
    return Response(
        content=pack(message),
        media_type=MEDIA_TYPE,
        headers={"content-encoding": "zstd", PROTOCOL_HEADER: str(PROTOCOL)},
    )


async def _handle(request: Request[Any, Any, State], expected: type) -> Response[bytes]:
    parent: Parent = request.app.state.parent
    try:
        _check_protocol(request)
        # The credential before the body: a revoked or forged node cannot make the parent read, inflate or decode
        # up to max_body_bytes per request.
        child = None if expected is EnrolRequest else await parent.authenticate(request.headers.get("authorization"))
        message = await _read(request, request.app.state.settings.http.max_body_bytes)
        if not isinstance(message, expected):
            raise SyncError(
                400, "wrong_message", "Sai loại thông điệp cho địa chỉ này.", "Wrong message type for this endpoint."
            )
        if isinstance(message, EnrolRequest):
            return _reply(await parent.enrol(message))
        assert child is not None
        match message:
            case PullRequest():
                return _reply(await parent.pull(child, message))
            case PushRequest():
                return _reply(await parent.push(child, message))
            case DigestRequest():
                return _reply(await parent.digest(child, message))
            case RepairRequest():
                return _reply(await parent.repair(child, message))
        raise AssertionError(message)
    except SyncError as err:
        return problem_response(err)
    except Exception as exc:
        if isinstance(exc, InternalServerException) and "disconnected" in str(exc.detail):
            # A node on a poor line dropped mid-request: expected, nothing was applied, it retries next round.
            log.warning("sync request %s: the node disconnected before its body arrived", request.url.path)
            return problem_response(
                SyncError(400, "disconnected", "Kết nối bị ngắt giữa chừng.", "The connection dropped mid-request.")
            )
        log.exception("sync request %s failed", request.url.path)
        return problem_response(
            SyncError(
                500,
                "internal",
                "Máy chủ cấp trên gặp lỗi nội bộ khi xử lý; không có gì được ghi. Nút sẽ thử lại sau.",
                "The parent failed internally; nothing was applied. The node will retry.",
            )
        )


@post("/enrol", status_code=200)
async def enrol(request: Request[Any, Any, State]) -> Response[bytes]:
    """Exchange a one-time enrolment code for a node credential."""
    return await _handle(request, EnrolRequest)


@post("/pull", status_code=200)
async def pull(request: Request[Any, Any, State]) -> Response[bytes]:
    """Rows this child should hold, after its cursor, in feed order."""
    return await _handle(request, PullRequest)


@post("/push", status_code=200)
async def push(request: Request[Any, Any, State]) -> Response[bytes]:
    """Apply a batch of the child's subtree's rows in one transaction and acknowledge it."""
    return await _handle(request, PushRequest)


@post("/digest", status_code=200)
async def digest(request: Request[Any, Any, State]) -> Response[bytes]:
    """Counts and hash sums per record type over the child's scope."""
    return await _handle(request, DigestRequest)


@post("/repair", status_code=200)
async def repair(request: Request[Any, Any, State]) -> Response[bytes]:
    """What the child must fetch, drop or push again in the buckets whose digests differ."""
    return await _handle(request, RepairRequest)


def sync_router() -> Router:
    return Router(path="/sync/v1", route_handlers=[enrol, pull, push, digest, repair], tags=["sync"])
