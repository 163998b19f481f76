"""The provincial hub's web application."""

from __future__ import annotations

from litestar import Litestar

from shared.app import create_app as create_base_app
from shared.serving import freeze_after_startup
from shared.settings import Settings


def create_app(settings: Settings) -> Litestar:
    return create_base_app(settings, role="hub")


def from_env() -> Litestar:
    """Factory for `uvicorn --factory` with several workers: settings come from NQSYNC_* variables."""
    return freeze_after_startup(create_app(Settings.load()))
