"""The web UI fixtures of tests/ui, for the hardening tests."""

from tests.ui.conftest import mk, ui

__all__ = ["mk", "ui"]
