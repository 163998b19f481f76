"""The HTTP face of a `RecordService`: list, get, create, revise and delete routes, written once for every type.

A concept calls `record_routes(...)` with its service and its API structs and gets a `Router` of five routes; a type
with real workflow adds its own verbs beside them (`extra`). Errors are the service's `Refusal`s, rendered by the
API's exception handlers as one JSON shape. This module has no `from __future__ import annotations` on purpose:
the handlers are made at run time and Litestar reads their annotations as real types.
"""

import unicodedata
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

import msgspec
from litestar import Request, Response, Router, delete, get, patch, post
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import BodyKwarg, FromPath, FromQuery, JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.core.errors import Refusal
from shared.core.scope import Caller, out
from shared.core.service import RecordService
from shared.db.engine import Database

T = TypeVar("T")


async def reading(state: State, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """A route's `work` over one read connection."""
    db: Database = state.db
    async with db.read() as conn:
        return await work(conn)


async def writing(state: State, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """A route's `work` in one write transaction, committed when it returns; a refusal writes nothing."""
    db: Database = state.db
    async with db.write() as conn:
        return await work(conn)


_NO_FILTER = ("_", "__")
"""Names of the list filters a type does not have (hidden from the schema; Litestar wants distinct names)."""


def record_routes(
    path: str,
    service: RecordService[Any],
    *,
    read: type[msgspec.Struct],
    create: type[msgspec.Struct] | None = None,
    update: type[msgspec.Struct] | None = None,
    removable: bool = True,
    listable: bool = True,
    tag: str,
    to_out: Callable[[Any], Any] | None = None,
    extra: Sequence[ControllerRouterHandler] = (),
    what: str = "",
    filter_by: str | Sequence[str] = (),
    detail: Callable[[Any, Any], Awaitable[Any]] | None = None,
    docs: Mapping[str, str] | None = None,
    write_opt: Mapping[str, Any] | None = None,
) -> Router:
    """Routes under `path` for one record type; `create`/`update` None leaves that verb out (workflow types).

    `listable` False leaves the list to the concept (`extra`) when it filters by more than ids;
    `filter_by` names up to two uuid columns the list may be narrowed by (`?document=...&member=...`);
    `detail(conn, record)` is the answer of get, create and revise when it needs more than the record (e.g. a
    programme's progress); `write_opt` is the route `opt` of create, revise and delete (e.g. the role they need,
    `{"role": "admin"}`); `docs` gives a verb (list, get, create, revise, delete) its description in the OpenAPI.
    """
    shape: Callable[[Any], msgspec.Struct] = to_out or (lambda rec: out(rec, read))
    label = what or service.kind.what[1]
    names = (filter_by,) if isinstance(filter_by, str) else tuple(filter_by)
    if len(names) > 2:
        raise ValueError(f"record_routes: at most two list filters, got {names}")
    columns = [service.rt.table.c[n] for n in names]
    first, second = (*names, *_NO_FILTER)[:2]
    said = dict(docs or {})
    opt = dict(write_opt or {})

    async def answer(conn: Any, rec: Any) -> msgspec.Struct:
        shaped: msgspec.Struct = await detail(conn, rec) if detail is not None else shape(rec)
        return shaped

    @get(
        "/",
        summary=f"List {label}s",
        description=said.get("list", f"Live {label}s of a unit's subtree (the caller's by default)."),
    )
    async def list_records(
        state: State,
        caller: NamedDependency[Caller],
        unit: FromQuery[uuid.UUID | None] = None,
        after: FromQuery[uuid.UUID | None] = None,
        limit: FromQuery[int] = 200,
        by: Annotated[uuid.UUID | None, QueryParameter(name=first, include_in_schema=len(columns) > 0)] = None,
        and_by: Annotated[uuid.UUID | None, QueryParameter(name=second, include_in_schema=len(columns) > 1)] = None,
    ) -> list[read]:  # type: ignore[valid-type]
        db: Database = state.db
        where = [c == v for c, v in zip(columns, (by, and_by), strict=False) if v is not None]
        async with db.read() as conn:
            found = await service.list_page(conn, caller, unit, after=after, limit=limit, where=where)
            return [shape(r) for r in found]

    @get("/{record_id:uuid}", summary=f"One {label}", description=said.get("get"))
    async def get_record(state: State, caller: NamedDependency[Caller], record_id: FromPath[uuid.UUID]) -> read:  # type: ignore[valid-type]
        db: Database = state.db
        async with db.read() as conn:
            return await answer(conn, await service.get(conn, caller, record_id))

    handlers: list[ControllerRouterHandler] = [list_records, get_record] if listable else [get_record]

    if create is not None:

        @post("/", summary=f"Record a {label}", description=said.get("create"), opt=opt)
        async def create_record(state: State, caller: NamedDependency[Caller], data: JSONBody[create]) -> read:  # type: ignore[valid-type]
            db: Database = state.db
            async with db.write() as conn:
                return await answer(conn, await service.create(conn, caller, data))

        handlers.append(create_record)

    if update is not None:

        @patch("/{record_id:uuid}", summary=f"Change a {label}", description=said.get("revise"), opt=opt)
        async def revise_record(
            state: State,
            caller: NamedDependency[Caller],
            record_id: FromPath[uuid.UUID],
            data: JSONBody[update],  # type: ignore[valid-type]
        ) -> read:  # type: ignore[valid-type]
            db: Database = state.db
            async with db.write() as conn:
                return await answer(conn, await service.revise(conn, caller, record_id, data))

        handlers.append(revise_record)

    if removable:

        @delete(
            "/{record_id:uuid}", status_code=204, summary=f"Delete a {label}", description=said.get("delete"), opt=opt
        )
        async def delete_record(
            state: State,
            caller: NamedDependency[Caller],
            record_id: FromPath[uuid.UUID],
            rev: FromQuery[int | None] = None,
        ) -> None:
            db: Database = state.db
            async with db.write() as conn:
                await service.delete(conn, caller, record_id, rev)

        handlers.append(delete_record)

    return Router(path=path, route_handlers=[*handlers, *extra], tags=[tag])


XlsxUpload = Annotated[UploadFile, BodyKwarg(media_type=RequestEncodingType.MULTI_PART)]
"""An uploaded spreadsheet (a multipart form field), read whole by the route before the service parses it."""


async def require_upload(request: Request[Any, Any, Any]) -> None:
    """Before an import handler: a multipart body without a file is refused in words (Litestar would fail with a
    500 looking for the file; found by the fuzzer)."""
    form = await request.form()
    if not any(isinstance(v, UploadFile) for v in form.values()):
        raise Refusal(
            400,
            "import.no_file",
            "Chưa có tệp .xlsx trong yêu cầu; hãy chọn tệp rồi gửi lại.",
            "No .xlsx file in the request; attach one and send again.",
            field="file",
            rule="import",
        )


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if c.isascii() and not unicodedata.combining(c))


def attachment(content: bytes, name: str, media_type: str) -> Response[bytes]:
    """A download with its Vietnamese name (RFC 6266 `filename*`) and a plain-ASCII name for older clients."""
    disposition = f"attachment; filename=\"{_ascii(name)}\"; filename*=UTF-8''{quote(name, safe='')}"
    return Response(content=content, media_type=media_type, headers={"Content-Disposition": disposition})
