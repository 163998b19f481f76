"""`nqsync demo` as users run it: a real process, its printed counts checked against its own database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from shared.db.engine import Database
from shared.records.units import load_units
from shared.settings import sqlite_url

NQSYNC = Path(sys.executable).with_name("nqsync")
SUMMARY = re.compile(r"Hoàn thành trong [\d,]+ giây: ([\d.]+) đơn vị \(([^)]*)\), ([\d.]+) đơn vị lực lượng vũ trang")


def run_demo(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONIOENCODING": "utf-8",
        "COLUMNS": "120",
        # The demo must never touch a configured database, only the embedded one in its own folder.
        "NQSYNC_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/khong_duoc_dung",
    }
    return subprocess.run(
        [str(NQSYNC), "demo", *args], capture_output=True, text=True, encoding="utf-8", env=env, timeout=120
    )


def number(text: str) -> int:
    return int(text.replace(".", ""))


async def test_d1_demo_prints_the_counts_of_its_own_database(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    done = run_demo("--scale", "0.05", "--data", str(data), "--today", "27/11/2026")
    assert done.returncode == 0, done.stderr + done.stdout
    out = done.stdout
    summary = SUMMARY.search(out)
    assert summary, out
    database = Path(out.rsplit("Cơ sở dữ liệu: ", 1)[1].strip())
    assert database == (data / "nqsync.sqlite3").resolve()
    assert (data / "don-vi-tinh-mau.xlsx").exists()

    db = Database(sqlite_url(database))
    try:
        async with db.read() as conn:
            units = await load_units(conn)
    finally:
        await db.dispose()
    by_level = Counter(u.level for u in units)
    printed = {level: number(n) for level, n in (part.rsplit(" ", 1) for part in summary.group(2).split("; "))}
    assert number(summary.group(1)) == len(units)
    assert printed == dict(by_level)
    assert number(summary.group(3)) == sum(u.armed_forces for u in units)
    assert 200 < len(units) < 800

    # D16-D20 with a fixed day: the Central resolution's preliminary review fell due on 24/11/2026.
    assert re.search(r"45-NQ/TW.*Sơ kết.*24/11/2026.*24/09/2026.*Quá hạn", out)
    assert re.search(r"Tổng kết.*24/11/2031.*24/09/2031.*Chưa đến kỳ", out)
    assert re.search(r"15-NQ/TU.*Sơ kết.*20/12/2024.*Đã thực hiện", out)
    assert "Sơ kết 09-CT/TU dời từ 15/06/2026 sang 31/12/2026" in out
    assert "112-CV/TU" in out


def test_demo_wipes_only_its_own_folder(tmp_path: Path) -> None:
    foreign = tmp_path / "that"
    foreign.mkdir()
    (foreign / "quan-trong.txt").write_text("dữ liệu thật", "utf-8")
    refused = run_demo("--scale", "0.02", "--data", str(foreign))
    assert refused.returncode != 0
    assert "không phải của bản demo" in refused.stderr
    assert [p.name for p in foreign.iterdir()] == ["quan-trong.txt"]

    data = tmp_path / "demo"
    assert run_demo("--scale", "0.02", "--data", str(data)).returncode == 0
    again = run_demo("--scale", "0.02", "--data", str(data))
    assert again.returncode == 0, again.stderr
    assert "Xóa dữ liệu của lần chạy demo trước" in again.stdout
    assert "tạo mới" in again.stdout
    assert "cập nhật 0" in again.stdout
