"""`nqsync node serve --open`: the browser opens at the node's page once it answers (the office laptop's start).

The browser is a tiny script named in BROWSER (Python's webbrowser runs it with the address), which writes the
address it was given to a file.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tests.harness import clean_env, serving


def _browser(tmp_path: Path) -> tuple[Path, Path]:
    opened = tmp_path / "opened.txt"
    script = tmp_path / "browser"
    script.write_text(
        f"#!{sys.executable}\nimport pathlib, sys\npathlib.Path({str(opened)!r}).write_text(sys.argv[1])\n"
    )
    script.chmod(0o755)
    return script, opened


def _serve(tmp_path: Path, *flags: str) -> tuple[int, Path]:
    script, opened = _browser(tmp_path)
    args = ("node", "serve", "--data", str(tmp_path / "nut"), "--interval", "3600", *flags)
    with serving(*args, env=clean_env(BROWSER=str(script)), log=tmp_path / "node.log") as node:
        deadline = time.monotonic() + (30 if flags else 3)  # without --open: a few seconds prove nothing opened
        while not opened.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    return node.port, opened


def test_serve_open_opens_the_browser_at_the_node_page(tmp_path: Path) -> None:
    port, opened = _serve(tmp_path, "--open")
    assert opened.read_text() == f"http://127.0.0.1:{port}/"


def test_serve_without_open_leaves_the_browser_alone(tmp_path: Path) -> None:
    _, opened = _serve(tmp_path)
    assert not opened.exists()
