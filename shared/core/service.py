"""One way to list, read, create, revise and delete a synced record on behalf of a signed-in person.

Every concept whose records have that shape describes them once as a `RecordKind` (the record type, how a create
body becomes a record, the concept's rule check) and gets a `RecordService`; its API routes (`shared.api.resource`)
and its pages call the same service, so scope (D4), single writer, optimistic revs and paging are written once.
Services work on a connection the caller opened (`db.read()` / `db.write()`): one transaction per request.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.core.scope import (
    MAX_PAGE,
    Caller,
    UnitInfo,
    changes_of,
    check_rev,
    down_select,
    get_visible,
    out,
    page,
    records,
    revise,
    save,
    unit_in_scope,
    up_select,
    writable_owner,
)
from shared.ids import new_id
from shared.sync.registry import Record, RecordType

R = TypeVar("R", bound=Record)

Check = Callable[[AsyncConnection, UnitInfo, R], Awaitable["R | None"]]
"""A concept's rule check on a record about to be written by `owner`: raise `Refusal`, or return it normalised."""


def new_record(record: type[R], owner: uuid.UUID, audience: uuid.UUID | None = None, /, **fields: Any) -> R:
    """A record's first version: a new id, rev 1, live; `audience` as the type's rule sets it (None: travels up)."""
    return record(id=new_id(), owner=owner, audience=audience, rev=1, deleted=False, **fields)


async def another_live(conn: AsyncConnection, rt: RecordType, rec: Record, **same: Any) -> bool:
    """Whether a live record of the type other than `rec` has these column values: the one-per-key rules (one
    programme per unit and document, D14; one template per level and document, D11; one number per term)."""
    table = rt.table
    where = [table.c[name] == value for name, value in same.items()]
    found = await conn.execute(select(table.c.id).where(*where, table.c.id != rec.id, table.c.deleted.is_(False)))
    return found.first() is not None


async def _no_check(conn: AsyncConnection, owner: UnitInfo, rec: Any) -> None:
    return None


@dataclass(frozen=True)
class RecordKind(Generic[R]):
    """What the generic service needs to know of one record type."""

    rt: RecordType
    what: tuple[str, str]
    """How the record is named in messages: (Vietnamese, English), e.g. ("buổi học tập", "study session")."""
    check: Check[R] = _no_check
    down: bool = False
    """The records travel down (they have an audience): a viewer also reads those addressed to their ancestors."""
    audience_of: Callable[[Any, UnitInfo], uuid.UUID | None] = lambda data, owner: None
    """The audience a new record gets from its create body and owner (records that travel down)."""
    cleared_on_delete: tuple[str, ...] = ()
    """Text fields a tombstone empties (personal data such as a member's name must not outlive the record)."""
    creates: Callable[[AsyncConnection, Caller, Any], Awaitable[R]] | None = None
    """A create that is real workflow (grading numbers the attempt, D13; a held review checks the bottom-up order,
    D21): the concept's function checks, makes and saves the record in place of the generic create."""


@dataclass(frozen=True)
class Shapes:
    """A type's structs at the boundary (its `schemas.py`): the answer, and the create and revise bodies where the
    type offers those verbs (None: no such route); `out` makes a record's answer when it needs more than the
    answer's fields of the same name (`unit` is the owner)."""

    answer: type[msgspec.Struct]
    create: type[msgspec.Struct] | None = None
    update: type[msgspec.Struct] | None = None
    out: Callable[[Any], msgspec.Struct] | None = None

    def of(self, rec: Record) -> msgspec.Struct:
        """A record as its answer."""
        return self.out(rec) if self.out is not None else out(rec, self.answer)


class RecordService(Generic[R]):
    """List / get / create / revise / delete of one record type, each scoped to the caller's subtree (D4)."""

    def __init__(self, kind: RecordKind[R], shapes: Shapes) -> None:
        self.kind = kind
        self.shapes = shapes
        self.rt = kind.rt
        self._fields = frozenset(kind.rt.struct.__struct_fields__)

    def select(self, viewer: UnitInfo) -> Any:
        return down_select(self.rt, viewer) if self.kind.down else up_select(self.rt, viewer)

    async def list_page(
        self,
        conn: AsyncConnection,
        caller: Caller,
        unit: uuid.UUID | None = None,
        *,
        after: uuid.UUID | None = None,
        limit: int = 200,
        where: Sequence[ColumnElement[bool]] = (),
    ) -> list[R]:
        """Live records visible from `unit` (the caller's own by default), in id order from `after`."""
        viewer = await unit_in_scope(conn, caller, unit)
        stmt = self.select(viewer)
        for condition in where:
            stmt = stmt.where(condition)
        return await records(conn, self.rt, page(stmt, self.rt, after, limit))

    async def list_all(
        self,
        conn: AsyncConnection,
        caller: Caller,
        unit: uuid.UUID | None = None,
        *,
        where: Sequence[ColumnElement[bool]] = (),
    ) -> list[R]:
        """Every live record visible from `unit`, read page by page (for pages and exports of a whole list)."""
        found: list[R] = []
        after: uuid.UUID | None = None
        while True:
            batch = await self.list_page(conn, caller, unit, after=after, limit=MAX_PAGE, where=where)
            found.extend(batch)
            if len(batch) < MAX_PAGE:
                return found
            after = batch[-1].id

    async def get(self, conn: AsyncConnection, caller: Caller, record_id: uuid.UUID) -> R:
        """A live record the caller may read; 404 whether it is missing or out of scope (D4)."""
        rec: R = await get_visible(conn, self.rt, caller.unit, record_id, down=self.kind.down, what=self.kind.what)
        return rec

    async def create(self, conn: AsyncConnection, caller: Caller, data: msgspec.Struct, **extra: Any) -> R:
        """A new record owned by `data.unit` (the caller's unit by default), checked, written here (single writer).

        The record's fields are the create body's fields of the same name, then `extra` (computed fields); a kind
        with its own `creates` makes the record itself.
        """
        if self.kind.creates is not None:
            return await self.kind.creates(conn, caller, data)
        owner = await writable_owner(conn, caller, getattr(data, "unit", None) or caller.unit.id)
        values = {name: getattr(data, name) for name in data.__struct_fields__ if name in self._fields}
        values.update(extra)
        values.update(id=new_id(), owner=owner.id, audience=self.kind.audience_of(data, owner), rev=1, deleted=False)
        rec: R = self.rt.struct(**values)  # type: ignore[assignment]
        return await self._write(conn, owner, rec)

    async def revise(self, conn: AsyncConnection, caller: Caller, record_id: uuid.UUID, update: msgspec.Struct) -> R:
        """A new version with the fields `update` sets; refused if it was based on an older rev."""
        held = await self.get(conn, caller, record_id)
        owner = await writable_owner(conn, caller, held.owner)
        check_rev(getattr(update, "rev", None), held)
        changed = msgspec.structs.replace(held, **changes_of(update))
        checked = await self.kind.check(conn, owner, changed)
        new: R = msgspec.structs.replace(checked or changed, rev=held.rev + 1)
        await save(conn, self.rt, new)
        await self.written(conn, new)
        return new

    async def delete(self, conn: AsyncConnection, caller: Caller, record_id: uuid.UUID, rev: int | None = None) -> None:
        """A tombstone: the record disappears here and everywhere it travelled."""
        held = await self.get(conn, caller, record_id)
        check_rev(rev, held)
        cleared = dict.fromkeys(self.kind.cleared_on_delete, "")
        await self.written(conn, await revise(conn, self.rt, caller, held, {"deleted": True, **cleared}))

    async def written(self, conn: AsyncConnection, rec: R) -> None:
        """After every write of this service, in its transaction: a concept keeps what depends on it current."""

    async def _write(self, conn: AsyncConnection, owner: UnitInfo, rec: R) -> R:
        checked = await self.kind.check(conn, owner, rec)
        final = rec if checked is None else checked
        await save(conn, self.rt, final)
        await self.written(conn, final)
        return final
