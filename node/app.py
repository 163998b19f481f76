"""A node's web application: its children's sync endpoints and, with later issues, its own UI and API."""

from __future__ import annotations

from litestar import Litestar

from shared.app import create_app as create_base_app
from shared.settings import Settings


def create_app(settings: Settings) -> Litestar:
    return create_base_app(settings, role="node")
