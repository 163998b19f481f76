"""The CLI contract in README, with real processes: a hub on PostgreSQL, a node enrolled over HTTP, status at both."""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.sample_province import write_sample_xlsx
from tests.harness import NQSYNC, clean_env, serving


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([NQSYNC, *args], capture_output=True, text=True, timeout=120, env=_env())
    if check and result.returncode != 0:
        raise AssertionError(f"nqsync {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def _env() -> dict[str, str]:
    return clean_env(COLUMNS="200")


@pytest.fixture
def hub(tmp_path: Path, make_database_url) -> Iterator[tuple[str, list[str]]]:  # type: ignore[no-untyped-def]
    url = asyncio.run(make_database_url("postgresql"))
    units = tmp_path / "donvi.xlsx"
    write_sample_xlsx(units, seed=7, scale=0.02)
    args = ["--data", str(tmp_path / "hub"), "--database-url", url]
    init = run("server", "init", *args, "--units", str(units))
    assert "đơn vị mới" in init.stdout
    with serving("server", "serve", *args) as served:
        yield served.url, args


def test_enrol_sync_and_status_through_the_cli(hub: tuple[str, list[str]], tmp_path: Path) -> None:
    url, hub_args = hub
    enrolled = run("server", "enroll", "X001", *hub_args)
    code = re.search(r"[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}", enrolled.stdout)
    assert code, enrolled.stdout
    node = ["--data", str(tmp_path / "x001")]

    init = run("node", "init", *node, "--parent", url, "--code", code.group(0), "--label", "máy văn phòng")
    assert "Đã đăng ký nút cho đơn vị X001" in init.stdout
    assert "Đồng bộ xong" in init.stdout

    again = run(
        "node", "init", "--data", str(tmp_path / "other"), "--parent", url, "--code", code.group(0), check=False
    )
    assert again.returncode != 0
    assert "đã được dùng" in again.stderr, "a used code is refused in plain words"

    assert "Đồng bộ xong" in run("node", "sync", *node).stdout
    status = run("node", "status", *node).stdout
    assert "X001" in status
    assert "Không có bản ghi nào bị từ chối" in status
    nodes = run("server", "nodes", *hub_args).stdout
    assert "X001" in nodes
    assert "1 nút." in nodes

    down = run("node", "sync", *node, "--via", "http://127.0.0.1:9", check=False)
    assert down.returncode != 0, "a failed round exits non-zero"
