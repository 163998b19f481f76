"""Who is calling, which units they cover (D4), and writing records as their unit's instance (single writer)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
from sqlalchemy import ColumnElement, Select, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from shared.accounts.records import ROLES
from shared.audit.hook import apply_local
from shared.core.errors import Refusal, conflict, forbidden_scope, not_found
from shared.sync import store
from shared.sync.registry import Record, RecordType
from shared.sync.tables import ChildNode, Identity, UnitRow

R = TypeVar("R", bound=Record)
T = TypeVar("T", bound=msgspec.Struct)

MAX_PAGE = 1000

Among = Callable[[Any], ColumnElement[bool]]
"""A condition on an owner column: the units whose records a figure counts (the consolidation's subtree then)."""


@dataclass(frozen=True, slots=True)
class UnitInfo:
    id: uuid.UUID
    code: str
    name: str
    path: str
    depth: int
    parent: uuid.UUID | None
    armed_forces: bool
    kind: str

    def covers(self, other: UnitInfo) -> bool:
        """D4: `other` is this unit or below it."""
        return other.path.startswith(self.path)


@dataclass(frozen=True, slots=True)
class Caller:
    """A signed-in person: their account, their unit and their role on this instance."""

    user_id: uuid.UUID
    username: str
    role: str
    unit: UnitInfo

    def at_least(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


_UNIT_COLS = (
    UnitRow.id,
    UnitRow.code,
    UnitRow.name,
    UnitRow.path,
    UnitRow.depth,
    UnitRow.parent,
    UnitRow.armed_forces,
    UnitRow.kind,
)


def _info(row: Any) -> UnitInfo:
    return UnitInfo(row.id, row.code, row.name, row.path, row.depth, row.parent, row.armed_forces, row.kind)


async def unit_info(conn: AsyncConnection, unit_id: uuid.UUID) -> UnitInfo | None:
    row = (await conn.execute(select(*_UNIT_COLS).where(UnitRow.id == unit_id, UnitRow.deleted.is_(False)))).first()
    return None if row is None else _info(row)


async def units_info(conn: AsyncConnection, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, UnitInfo]:
    out: dict[uuid.UUID, UnitInfo] = {}
    for i in range(0, len(ids), 500):
        rows = await conn.execute(select(*_UNIT_COLS).where(UnitRow.id.in_(ids[i : i + 500])))
        out.update({r.id: _info(r) for r in rows})
    return out


async def subtree_units(conn: AsyncConnection, top: UnitInfo, *, alive_only: bool = True) -> list[UnitInfo]:
    """`top` and every unit below it, shallowest first."""
    stmt = select(*_UNIT_COLS).where(UnitRow.path.startswith(top.path, autoescape=True), UnitRow.deleted.is_(False))
    if alive_only:
        stmt = stmt.where(UnitRow.valid_to.is_(None))
    return [_info(r) for r in await conn.execute(stmt.order_by(UnitRow.depth, UnitRow.code))]


async def unit_in_scope(conn: AsyncConnection, caller: Caller, unit_id: uuid.UUID | None) -> UnitInfo:
    """The unit a request names (the caller's own when None), refused unless the caller's unit covers it (D4)."""
    if unit_id is None or unit_id == caller.unit.id:
        return caller.unit
    unit = await unit_info(conn, unit_id)
    if unit is None or not caller.unit.covers(unit):
        raise forbidden_scope()
    return unit


async def writes_here(conn: AsyncConnection, owner: UnitInfo) -> bool:
    """Whether `check_writer` lets this instance write the owner's records (pages offer their forms only then)."""
    try:
        await check_writer(conn, owner)
    except Refusal:
        return False
    return True


async def check_writer(conn: AsyncConnection, owner: UnitInfo) -> None:
    """Only the owner's instance writes its records (ARCHITECTURE.md, single writer).

    Here that is: the owner is this instance's unit or below it, and no enrolled node serves the owner or a unit
    between it and this instance (that node is where the owner's records are written).
    """
    identity = (await conn.execute(select(Identity.unit))).scalar_one_or_none()
    if identity is not None:
        mine = await unit_info(conn, identity)
        if mine is None or not mine.covers(owner):
            raise conflict(
                "unit",
                "single_writer",
                f"Dữ liệu của {owner.name} do máy của đơn vị cấp trên ghi, không ghi tại nút này.",
                f"Records of {owner.code} are written on a higher level's instance, not on this node.",
                code="not_owner_instance",
            )
    child = (
        await conn.execute(
            select(UnitRow.code, UnitRow.name)
            .select_from(ChildNode)
            .join(UnitRow, UnitRow.id == ChildNode.unit)
            .where(ChildNode.revoked_at.is_(None), literal(owner.path).startswith(UnitRow.path))
            .limit(1)
        )
    ).first()
    if child is not None:
        raise conflict(
            "unit",
            "single_writer",
            f"{child.name} có máy (nút) riêng: dữ liệu của {owner.name} phải được nhập tại nút đó rồi đồng bộ lên.",
            f"{child.code} has its own node: records of {owner.code} are entered there and synced up.",
            code="own_node",
        )


def up_select(rt: RecordType, viewer: UnitInfo, *, by: Any = None) -> Select[Any]:
    """Rows owned in the viewer's subtree (records that travel up, D4); `by` joins on another unit column."""
    table = rt.table
    unit_col = table.c.owner if by is None else by
    return (
        select(*[table.c[n] for n in rt.columns])
        .join(UnitRow.__table__, UnitRow.id == unit_col)
        .where(UnitRow.path.startswith(viewer.path, autoescape=True))
    )


def down_select(rt: RecordType, viewer: UnitInfo, *, addressed_below: bool = False) -> Select[Any]:
    """Rows owned in the viewer's subtree, or addressed to the viewer or an ancestor (records travelling down);
    `addressed_below` also those addressed to a unit below the viewer (comments and decisions from above, D4)."""
    table = rt.table
    owner = aliased(UnitRow.__table__, name="ow")
    aud = aliased(UnitRow.__table__, name="au")
    seen = [owner.c.path.startswith(viewer.path, autoescape=True), literal(viewer.path).startswith(aud.c.path)]
    if addressed_below:
        seen.append(aud.c.path.startswith(viewer.path, autoescape=True))
    return (
        select(*[table.c[n] for n in rt.columns])
        .join(owner, owner.c.id == table.c.owner)
        .outerjoin(aud, aud.c.id == table.c.audience)
        .where(or_(*seen))
    )


def check_limit(limit: int) -> None:
    """A page of 1 to `MAX_PAGE` rows, else refused naming `limit`."""
    if not 1 <= limit <= MAX_PAGE:
        raise Refusal(
            422,
            "invalid",
            f"Số dòng mỗi trang phải từ 1 đến {MAX_PAGE}.",
            f"limit must be between 1 and {MAX_PAGE}.",
            field="limit",
            rule="paging",
        )


def page(stmt: Select[Any], rt: RecordType, after: uuid.UUID | None, limit: int) -> Select[Any]:
    """Keyset pagination by id (UUIDv7: roughly creation order); lists stay fast at 119,000 essays."""
    check_limit(limit)
    table = rt.table
    if after is not None:
        stmt = stmt.where(table.c.id > after)
    return stmt.where(table.c.deleted.is_(False)).order_by(table.c.id).limit(limit)


async def records(conn: AsyncConnection, rt: RecordType, stmt: Select[Any]) -> list[Any]:
    return [store.from_row(rt, r) for r in await conn.execute(stmt)]


async def get_visible(
    conn: AsyncConnection, rt: RecordType, viewer: UnitInfo, record_id: uuid.UUID, *, down: bool, what: tuple[str, str]
) -> Any:
    """A live record the viewer may read, else 404 (the same answer whether it exists out of scope or not, D4)."""
    return await referred(conn, rt, viewer, record_id, not_found(*what), down=down)


async def referred(
    conn: AsyncConnection, rt: RecordType, viewer: UnitInfo, record_id: uuid.UUID, refusal: Refusal, *, down: bool
) -> Any:
    """A live record the viewer may read, else `refusal`: a body's reference to a record out of scope (a document,
    a draft) is refused as that field's error, the same whether the record exists elsewhere or not (D4)."""
    base = down_select(rt, viewer) if down else up_select(rt, viewer)
    table = rt.table
    row = (await conn.execute(base.where(table.c.id == record_id, table.c.deleted.is_(False)))).first()
    if row is None:
        raise refusal
    return store.from_row(rt, row)


async def writable_owner(conn: AsyncConnection, caller: Caller, owner: uuid.UUID) -> UnitInfo:
    """The owner unit of a record the caller is about to write: in the caller's subtree, written here."""
    unit = await unit_in_scope(conn, caller, owner)
    await check_writer(conn, unit)
    return unit


async def save(conn: AsyncConnection, rt: RecordType, rec: Record) -> None:
    """Write one record here, with its audit entry (D27)."""
    await apply_local(conn, rt, [rec])


async def revise(conn: AsyncConnection, rt: RecordType, caller: Caller, old: R, changes: Mapping[str, Any]) -> R:
    """Write a new version of a record the caller's unit covers: rev + 1, only here (single writer)."""
    await writable_owner(conn, caller, old.owner)
    new = msgspec.structs.replace(old, rev=old.rev + 1, **changes)
    await save(conn, rt, new)
    return new


def check_rev(expected: int | msgspec.UnsetType | None, held: Record) -> None:
    """Optimistic check: an edit made on an older version is refused rather than silently overwriting."""
    if isinstance(expected, int) and expected != held.rev:
        raise conflict(
            "rev",
            "rev",
            f"Bản ghi đã được sửa (phiên bản {held.rev}, bạn sửa từ phiên bản {expected}); hãy tải lại rồi sửa.",
            f"The record changed (rev {held.rev}, your edit was based on rev {expected}); reload and retry.",
            code="stale",
        )


def changes_of(update: msgspec.Struct, *, skip: tuple[str, ...] = ("rev",)) -> dict[str, Any]:
    """The fields an `...Update` body sets (UNSET ones are left alone)."""
    return {
        name: value
        for name in update.__struct_fields__
        if name not in skip and (value := getattr(update, name)) is not msgspec.UNSET
    }


def out(rec: Record, kind: type[T], **extra: Any) -> T:
    """A record as its API struct: `unit` is the owner; struct fields of the same name are copied."""
    values = {name: getattr(rec, name) for name in rec.__struct_fields__}
    values.update(unit=rec.owner, **extra)
    return kind(**{k: v for k, v in values.items() if k in kind.__struct_fields__})
