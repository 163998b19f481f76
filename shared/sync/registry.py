"""What the engine knows of a record type: its wire struct, its table, how far up and down it travels."""

from __future__ import annotations

import enum
import functools
import types
import typing
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec
from sqlalchemy import JSON, Table

from shared.db.meta import ENVELOPE_WIRE_FIELDS, Base


class Record(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """Wire form of every synced record; a type's own fields follow these five, new ones last with defaults."""

    id: uuid.UUID
    owner: uuid.UUID
    audience: uuid.UUID | None
    rev: int
    deleted: bool


_UUID_BYTES = typing.Annotated[bytes, msgspec.Meta(min_length=16, max_length=16)]


class Audience(enum.Enum):
    """How a type's `audience` may be set; checked on every write and every push."""

    NONE = "none"
    """Travels only up (grades, responses): audience must be empty."""
    OWNER = "owner"
    """Travels down the owner's subtree (a provincial document): audience equals owner."""
    OWNER_SUBTREE = "owner_subtree"
    """Addressed to one unit in the owner's subtree (a comment to a base unit), or the owner itself."""


ROOT = None
"""Ceiling value for types that travel all the way to the root."""


@dataclass(frozen=True)
class RecordType:
    name: str
    """Wire name; never changes once released."""
    struct: type[Record]
    model: type[Base]
    ceiling: int | None
    """Levels above its owner a record may travel: 1 = the parent only (a members roster), None = the root."""
    audience: Audience = Audience.NONE
    validate: Callable[[Any], str | None] | None = None
    """Domain check at a parent; returns the reason a record is refused, or None."""
    personal: bool = False
    """Carries members' personal data: purged from a node that loses the right to it."""
    bulk: bool = False
    """Arrives by the tens of thousands (essay grades): a parent decodes pushes of it with `view_decoder`, so its
    `validate` may compare UUID fields for equality but must not call UUID methods on them."""
    columns: tuple[str, ...] = field(init=False)
    json_fields: dict[str, Any] = field(init=False)
    """Fields stored in JSON columns, with the struct types their stored builtins convert back into."""

    def __post_init__(self) -> None:
        names = self.struct.__struct_fields__
        if names[: len(ENVELOPE_WIRE_FIELDS)] != ENVELOPE_WIRE_FIELDS:
            raise TypeError(f"{self.struct.__name__} must start with the envelope fields {ENVELOPE_WIRE_FIELDS}")
        table_cols = set(self.table.c.keys())
        missing = [n for n in names if n not in table_cols]
        if missing:
            raise TypeError(f"table {self.table.name} lacks columns {missing} of {self.struct.__name__}")
        object.__setattr__(self, "columns", names)
        hints = typing.get_type_hints(self.struct)
        json_cols = {c.name for c in self.table.c if isinstance(c.type, JSON)}
        object.__setattr__(self, "json_fields", {n: hints[n] for n in names if n in json_cols})

    @functools.cached_property
    def batch_decoder(self) -> msgspec.msgpack.Decoder[list[Record]]:
        """Decodes a batch's msgpack array of wire structs in one call (one call per record cost twice as much)."""
        return msgspec.msgpack.Decoder(list[self.struct])  # type: ignore[name-defined]

    @functools.cached_property
    def view_decoder(self) -> msgspec.msgpack.Decoder[list[Any]]:
        """Decodes a batch into views of the wire struct whose UUID fields stay their 16 wire bytes.

        Making a `uuid.UUID` was most of decoding a record (about 1 µs each, five per essay grade, against 0.1 µs
        for bytes); the bulk path stores the bytes as they came (`store.uuid_text`), without ever making one.
        """
        hints = typing.get_type_hints(self.struct)
        names = self.struct.__struct_fields__
        defaults = self.struct.__struct_defaults__
        fields: list[Any] = []
        for i, name in enumerate(names):
            kind = _UUID_BYTES if hints[name] is uuid.UUID else hints[name]
            if typing.get_origin(kind) in (typing.Union, types.UnionType) and set(typing.get_args(kind)) == {
                uuid.UUID,
                type(None),
            }:
                kind = _UUID_BYTES | None
            at = i - (len(names) - len(defaults))
            fields.append((name, kind, defaults[at]) if at >= 0 else (name, kind))
        view = msgspec.defstruct(f"{self.struct.__name__}View", fields, array_like=True, frozen=True, gc=False)
        return msgspec.msgpack.Decoder(list[view])  # type: ignore[valid-type]

    @property
    def table(self) -> Table:
        table = self.model.__table__
        assert isinstance(table, Table)
        return table

    def may_reach(self, owner_depth: int, holder_depth: int) -> bool:
        """Whether a holder at `holder_depth` (an ancestor or the owner itself) may keep a record (the ceiling)."""
        return self.ceiling is None or owner_depth - holder_depth <= self.ceiling


class Registry:
    """The record types one program knows, in the order they are applied (units first)."""

    def __init__(self, *types: RecordType) -> None:
        self._types: dict[str, RecordType] = {}
        for t in types:
            self.add(t)

    def add(self, record_type: RecordType) -> None:
        if record_type.name in self._types:
            raise ValueError(f"record type {record_type.name!r} registered twice")
        self._types[record_type.name] = record_type

    def get(self, name: str) -> RecordType | None:
        return self._types.get(name)

    def __getitem__(self, name: str) -> RecordType:
        return self._types[name]

    def __iter__(self) -> Iterator[RecordType]:
        return iter(self._types.values())

    def __len__(self) -> int:
        return len(self._types)

    def names(self) -> list[str]:
        return list(self._types)
