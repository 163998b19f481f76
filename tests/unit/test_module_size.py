"""Every Python module tracked by git, tests included, stays under 500 lines (STYLE: split by topic before then)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 500
"""A module of this many lines or more fails; Alembic's migrations are exempt (they are never edited)."""


def _tracked() -> list[str]:
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the tracked modules cannot be listed")
    listed = subprocess.run(
        [git, "ls-files", "-z", "--", "*.py"], cwd=ROOT, capture_output=True, check=True, text=True
    ).stdout
    return [p for p in listed.split("\0") if p and "migrations" not in Path(p).parts]


def test_every_tracked_module_outside_migrations_is_under_500_lines() -> None:
    paths = _tracked()
    assert len(paths) > 100, "git listed almost nothing: the check would pass vacuously"
    sizes = {p: len((ROOT / p).read_text(encoding="utf-8").splitlines()) for p in paths if (ROOT / p).is_file()}
    too_long = sorted((n, p) for p, n in sizes.items() if n >= LIMIT)
    assert not too_long, f"modules of {LIMIT} lines or more; split them by topic: " + ", ".join(
        f"{p} ({n})" for n, p in reversed(too_long)
    )
