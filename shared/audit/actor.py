"""Who is writing: set once where a request is authenticated or a CLI command starts, read by the audit hook."""

from __future__ import annotations

import contextlib
import getpass
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shared.core.scope import Caller


@dataclass(frozen=True, slots=True)
class Actor:
    """The person (or the program) on whose behalf this task writes, and from where."""

    account: uuid.UUID | None
    username: str
    unit: uuid.UUID | None
    role: str
    via: str
    address: str = ""
    full_name: str = ""


SYSTEM = Actor(None, "(hệ thống)", None, "", "system")
"""Writes no person asked for (setup, seeding): still logged, under this name."""

_current: ContextVar[Actor | None] = ContextVar("nqsync_actor", default=None)


def current() -> Actor:
    return _current.get() or SYSTEM


def set_actor(actor: Actor) -> None:
    """For a request: its own task, so the value ends with it (set in the auth guards)."""
    _current.set(actor)


def signed_in(caller: Caller, connection: Any, via: str) -> None:
    """Where a request is authenticated (the API's guard, the pages' guard): its writes are this person's."""
    client = getattr(connection, "client", None)
    address = client.host if client is not None else ""
    set_actor(Actor(caller.user_id, caller.username, caller.unit.id, caller.role, via, address))


def cli_actor() -> Actor:
    """A command run on this machine: the operating-system account that ran it (there is no session)."""
    return Actor(None, f"cli:{getpass.getuser()}", None, "", "cli")


@contextlib.contextmanager
def acting(actor: Actor) -> Iterator[Actor]:
    """For a CLI command or a test: writes inside the block are logged under `actor`."""
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


def as_import() -> None:
    """The current request writes from an uploaded file: its entries say so."""
    actor = _current.get()
    if actor is not None and actor.via != "import":
        _current.set(replace(actor, via="import"))
