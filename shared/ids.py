"""Record identifiers: UUIDv7, made offline, ordered roughly by creation."""

import uuid

from uuid_utils.compat import uuid7


def new_id() -> uuid.UUID:
    """A fresh UUIDv7; needs no coordination, so a node can make it offline."""
    return uuid7()
