"""The benchmark suite still runs: `python -m bench --quick` end to end, seconds long (figures not checked)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_quick_runs_every_benchmark(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    if "NQSYNC_TEST_DATABASE_URL" in os.environ:
        env.setdefault("NQSYNC_BENCH_DATABASE_URL", os.environ["NQSYNC_TEST_DATABASE_URL"])
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--markdown", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    table = out.read_text()
    for name in (
        "push",
        "bootstrap",
        "no-op round",
        "burst",
        "consolidation",
        "node footprint",
        "bytes on the wire",
        "growth: push",
        "growth: pull n",
        "growth: pull of 100",
        "growth: round with nothing",
    ):
        assert name in table, name
    assert "FAILED" not in table
