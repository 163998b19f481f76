"""The HTTP face of a `RecordService`: list, get, create, revise and delete routes, written once for every type.

A concept calls `record_routes(...)` with its service, which names its API structs (`Shapes`), and gets a `Router`
of five routes; a type with real workflow adds its own verbs beside them (`extra`), written over the same `api: Api`
dependency. Errors are the service's `Refusal`s, rendered by the API's exception handlers as one JSON shape. This
module has no `from __future__ import annotations` on purpose: the handlers are made at run time and Litestar reads
their annotations as real types.
"""

import unicodedata
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
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
from shared.core.scope import Caller, UnitInfo, unit_in_scope
from shared.core.service import RecordService
from shared.db.engine import Database

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Api:
    """What every API route works with: the signed-in caller and the database of its one connection."""

    db: Database
    caller: Caller

    async def read(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """`work` over one read connection."""
        async with self.db.read() as conn:
            return await work(conn)

    async def write(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """`work` in one write transaction, committed when it returns; a refusal writes nothing."""
        async with self.db.write() as conn:
            return await work(conn)

    async def viewing(self, unit: uuid.UUID | None, work: Callable[[AsyncConnection, UnitInfo], Awaitable[T]]) -> T:
        """`work` over one read connection and the unit the request views, refused outside the caller's subtree (D4)."""
        async with self.db.read() as conn:
            return await work(conn, await unit_in_scope(conn, self.caller, unit))


def provide_api(request: Request[Any, Any, State]) -> Api:
    """The `api` dependency of every route under `/api/v1` (the session guard has set the caller)."""
    return Api(request.app.state.db, request.state.caller)


Viewed = FromQuery[uuid.UUID | None]
"""`?unit=`: the unit of the caller's subtree a route reads for, the caller's own when absent (D4)."""

_NO_FILTER = ("_", "__")
"""Names of the list filters a type does not have (hidden from the schema; Litestar wants distinct names)."""


def record_routes(
    path: str,
    service: RecordService[Any],
    *,
    removable: bool = True,
    listable: bool = True,
    tag: str,
    extra: Sequence[ControllerRouterHandler] = (),
    what: str = "",
    filter_by: str | Sequence[str] = (),
    detail: Callable[[Any, Any], Awaitable[Any]] | None = None,
    docs: Mapping[str, str] | None = None,
    write_opt: Mapping[str, Any] | None = None,
) -> Router:
    """Routes under `path` for one record type, in the structs its service names (`Shapes`): no create or revise
    route where the type has no such body (workflow types add their own verb).

    `listable` False leaves the list to the concept (`extra`) when it filters by more than ids;
    `filter_by` names up to two uuid columns the list may be narrowed by (`?document=...&member=...`);
    `detail(conn, record)` is the answer of get, create and revise when it needs more than the record (e.g. a
    programme's progress); `write_opt` is the route `opt` of create, revise and delete (e.g. the role they need,
    `{"role": "admin"}`); `docs` gives a verb (list, get, create, revise, delete) its description in the OpenAPI.
    """
    shapes = service.shapes
    read, create, update, shape = shapes.answer, shapes.create, shapes.update, shapes.of
    label = what or service.kind.what[1]
    names = (filter_by,) if isinstance(filter_by, str) else tuple(filter_by)
    if len(names) > 2:
        raise ValueError(f"record_routes: at most two list filters, got {names}")
    columns = [service.rt.table.c[n] for n in names]
    first, second = (*names, *_NO_FILTER)[:2]
    said = dict(docs or {})
    opt = dict(write_opt or {})

    async def answer(conn: Any, held: Awaitable[Any]) -> msgspec.Struct:
        rec = await held
        shaped: msgspec.Struct = await detail(conn, rec) if detail is not None else shape(rec)
        return shaped

    @get(
        "/",
        summary=f"List {label}s",
        description=said.get("list", f"Live {label}s of a unit's subtree (the caller's by default)."),
    )
    async def list_records(
        api: NamedDependency[Api],
        unit: Viewed = None,
        after: FromQuery[uuid.UUID | None] = None,
        limit: FromQuery[int] = 200,
        by: Annotated[uuid.UUID | None, QueryParameter(name=first, include_in_schema=len(columns) > 0)] = None,
        and_by: Annotated[uuid.UUID | None, QueryParameter(name=second, include_in_schema=len(columns) > 1)] = None,
    ) -> list[read]:  # type: ignore[valid-type]
        where = [c == v for c, v in zip(columns, (by, and_by), strict=False) if v is not None]
        found = await api.read(
            lambda conn: service.list_page(conn, api.caller, unit, after=after, limit=limit, where=where)
        )
        return [shape(r) for r in found]

    @get("/{record_id:uuid}", summary=f"One {label}", description=said.get("get"))
    async def get_record(api: NamedDependency[Api], record_id: FromPath[uuid.UUID]) -> read:  # type: ignore[valid-type]
        return await api.read(lambda conn: answer(conn, service.get(conn, api.caller, record_id)))

    handlers: list[ControllerRouterHandler] = [list_records, get_record] if listable else [get_record]

    if create is not None:

        @post("/", summary=f"Record a {label}", description=said.get("create"), opt=opt)
        async def create_record(api: NamedDependency[Api], data: JSONBody[create]) -> read:  # type: ignore[valid-type]
            return await api.write(lambda conn: answer(conn, service.create(conn, api.caller, data)))

        handlers.append(create_record)

    if update is not None:

        @patch("/{record_id:uuid}", summary=f"Change a {label}", description=said.get("revise"), opt=opt)
        async def revise_record(
            api: NamedDependency[Api],
            record_id: FromPath[uuid.UUID],
            data: JSONBody[update],  # type: ignore[valid-type]
        ) -> read:  # type: ignore[valid-type]
            return await api.write(lambda conn: answer(conn, service.revise(conn, api.caller, record_id, data)))

        handlers.append(revise_record)

    if removable:

        @delete(
            "/{record_id:uuid}", status_code=204, summary=f"Delete a {label}", description=said.get("delete"), opt=opt
        )
        async def delete_record(
            api: NamedDependency[Api], record_id: FromPath[uuid.UUID], rev: FromQuery[int | None] = None
        ) -> None:
            await api.write(lambda conn: service.delete(conn, api.caller, record_id, rev))

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
