"""`nqsync server check` and `nqsync node check` (the operator's doctor) on real databases, Redis and certificates.

A hub on PostgreSQL with a district node (H1) that has a base node (H1B1) below it, built by the sync harness; the
checks run as the real command, reading what those instances wrote.
"""

from __future__ import annotations

import asyncio
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import trustme

from tests.conftest import REDIS_URL
from tests.deploy.processes import nqsync
from tests.harness import DOCUMENT, Cluster, free_port


def _cert(path: Path, days: float) -> Path:
    """A certificate file (leaf then its CA, as nginx's would be) whose leaf expires `days` from now."""
    ca = trustme.CA()
    leaf = ca.issue_cert("hub.example.vn", not_after=datetime.now(UTC) + timedelta(days=days))
    path.write_bytes(b"".join(blob.bytes() for blob in (*leaf.cert_chain_pems, ca.cert_pem)))
    return path


async def _check(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(nqsync, *args, **env)


def _line(out: str, label: str) -> str:
    found = [line for line in out.splitlines() if f" {label}" in line]
    assert len(found) == 1, f"one line for {label!r} expected:\n{out}"
    return found[0]


async def test_server_check_reports_each_part_and_fails_only_on_errors(tmp_path: Path, make_database_url) -> None:  # type: ignore[no-untyped-def]
    cluster = Cluster(tmp_path, make_database_url)
    try:
        hub = await cluster.hub("postgresql")
        h1 = await cluster.node("H1", hub)
        await cluster.node("H1B1", h1)
        await cluster.write(hub, DOCUMENT, [cluster.document("TU", "20-NQ/TU")])  # H1 has not pulled it yet
        await cluster.write(h1, DOCUMENT, [cluster.document("H1", "04-NQ/HU")])  # nor H1B1 this one
        for inst in (hub, h1):
            await cluster.stop_serving(inst)  # a parent stores the contacts it noted when it stops
        url = hub.settings.database.url
        soon, later = _cert(tmp_path / "soon.pem", 10), _cert(tmp_path / "later.pem", 400)
        args = ("server", "check", "--data", str(tmp_path / "hub"), "--database-url", url)

        done = await _check(*args, "--redis-url", REDIS_URL, "--cert", str(soon), "--cert", str(later),
                            "--min-free-gb", "1000000", "--stale-hours", "0")  # fmt: skip
        out = done.stdout
        assert done.returncode == 0, f"warnings alone do not fail the check:\n{out}\n{done.stderr}"
        assert _line(out, "Cơ sở dữ liệu").startswith("OK ")
        assert _line(out, "Redis").startswith("OK ")
        assert _line(out, "Dung lượng đĩa").startswith("CẢNH BÁO "), "below the threshold asked for"
        soon_line = _line(out, f"Chứng chỉ {soon}")
        assert soon_line.startswith("CẢNH BÁO ")
        assert (datetime.now(UTC) + timedelta(days=10)).strftime("%d/%m/%Y") in soon_line
        assert _line(out, f"Chứng chỉ {later}").startswith("OK ")
        children = _line(out, "Nút cấp dưới")
        assert children.startswith("CẢNH BÁO "), children
        assert "H1 (liên lạc gần nhất: " in children, children
        assert "chậm 1 thay đổi" in children, children
        assert "Kết quả: 0 lỗi, 3 cảnh báo." in out

        # Heard from within the day: a child behind is only mid-round, not a warning.
        calm = await _check(*args, "--redis-url", REDIS_URL)
        assert _line(calm.stdout, "Nút cấp dưới").startswith("OK "), calm.stdout
        assert _line(calm.stdout, "Chứng chỉ").startswith("OK "), "none configured"

        expired = _cert(tmp_path / "expired.pem", -1)
        redis_down = f"redis://127.0.0.1:{free_port()}/0"
        bad = await _check(*args, "--redis-url", redis_down, "--cert", str(expired))
        assert bad.returncode == 1, bad.stdout
        assert _line(bad.stdout, "Redis").startswith("LỖI "), bad.stdout
        assert "đã hết hạn" in _line(bad.stdout, f"Chứng chỉ {expired}")

        # A district node's own check: its child H1B1 behind by H1's new document, last seen just now.
        node = await _check("node", "check", "--data", str(tmp_path / "H1"), "--stale-hours", "0",
                            NQSYNC_DATABASE_URL=h1.settings.database.url)  # fmt: skip
        assert node.returncode == 0, node.stdout
        assert "Redis" not in node.stdout, "a node has no queue"
        assert "H1B1 (" in _line(node.stdout, "Nút cấp dưới")
    finally:
        await cluster.close()


async def test_an_up_to_date_child_is_fine_however_long_ago_it_was_seen(tmp_path: Path, make_database_url) -> None:  # type: ignore[no-untyped-def]
    """A parent does not record a pull that brought nothing: behind by 0 is up to date, whatever the last contact."""
    cluster = Cluster(tmp_path, make_database_url)
    try:
        hub = await cluster.hub("sqlite")
        await cluster.node("H1", hub)
        await cluster.stop_serving(hub)
        done = await _check("server", "check", "--data", str(tmp_path / "hub"), "--stale-hours", "0",
                            "--database-url", hub.settings.database.url)  # fmt: skip
        assert done.returncode == 0, done.stdout
        assert _line(done.stdout, "Nút cấp dưới").startswith("OK        Nút cấp dưới: 1 nút, 0 nút đang chậm")
    finally:
        await cluster.close()


async def test_a_missing_database_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    done = await _check("node", "check", "--data", str(tmp_path / "nut"))
    assert done.returncode == 1
    assert _line(done.stdout, "Cơ sở dữ liệu").startswith("LỖI ")
    assert not (tmp_path / "nut" / "nqsync.sqlite3").exists()
