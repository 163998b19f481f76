"""`nqsync demo` as users run it: a real process, its printed counts checked against its own database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from shared.db.engine import Database
from shared.domain.programmes import target_met
from shared.essays.records import EssayGradeRow
from shared.members.records import MemberRow
from shared.programmes.records import ActionProgrammeRow, ProgressRow
from shared.settings import sqlite_url
from shared.surveys.records import SurveyResponseRow
from shared.sync.tables import Identity, UnitRow
from shared.units.records import load_units

NQSYNC = Path(sys.executable).with_name("nqsync")
SUMMARY = re.compile(r"Hoàn thành trong [\d,]+ giây: ([\d.]+) đơn vị \(([^)]*)\), ([\d.]+) đơn vị lực lượng vũ trang")


def run_demo(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONIOENCODING": "utf-8",
        "COLUMNS": "160",
        # The demo must never touch a configured database, only the embedded one in its own folder.
        "NQSYNC_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/khong_duoc_dung",
    }
    return subprocess.run(
        [str(NQSYNC), "demo", *args], capture_output=True, text=True, encoding="utf-8", env=env, timeout=300
    )


def number(text: str) -> int:
    return int(text.replace(".", ""))


async def test_d1_d16_d20_d26_demo_prints_the_counts_and_figures_of_its_own_records(tmp_path: Path) -> None:
    """The whole demo (real hub and node processes): its tree counts, calendar, and consolidated figures are checked
    against the records each node holds in its own database."""
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
    await check_consolidated_figures(out, data)
    await check_programmes_and_surveys(out, data)


async def check_consolidated_figures(out: str, data: Path) -> None:
    """D12, D13, D20, D26: the hub's printed rows equal what the base and district nodes recorded."""
    assert "khớp" in out
    assert "KHÔNG KHỚP" not in out
    nodes = sorted(p.name for p in (data / "nodes").iterdir())
    held: dict[str, dict[str, int]] = {}
    for code in nodes:
        db = Database(sqlite_url(data / "nodes" / code / "nqsync.sqlite3"))
        try:
            async with db.read() as conn:
                me = (await conn.execute(select(Identity.unit))).scalar_one()
                parent = (await conn.execute(select(UnitRow.parent).where(UnitRow.id == me))).scalar_one()
                district = (await conn.execute(select(UnitRow.code).where(UnitRow.id == parent))).scalar_one()
                members = (
                    (
                        await conn.execute(
                            select(MemberRow.obligation).where(MemberRow.owner == me, MemberRow.origin.is_(None))
                        )
                    )
                    .scalars()
                    .all()
                )
                grades = (
                    await conn.execute(
                        select(
                            EssayGradeRow.member, EssayGradeRow.attempt, EssayGradeRow.band, EssayGradeRow.obligation
                        ).where(EssayGradeRow.owner == me)
                    )
                ).all()
        finally:
            await db.dispose()
        if not members:
            continue  # a district node: its bases' records are counted at the bases
        latest: dict[object, tuple[int, str, str]] = {}
        for g in grades:
            if g.member not in latest or g.attempt > latest[g.member][0]:
                latest[g.member] = (g.attempt, g.band, g.obligation)
        acc = held.setdefault(district, Counter())
        acc["obliged"] += sum(o == "obliged" for o in members)
        acc["wrote"] += sum(o == "obliged" for _, _, o in latest.values())
        acc["weak"] += sum(b == "Yếu" for _, b, _ in latest.values())
        acc["good"] += sum(b == "Tốt" for _, b, _ in latest.values())
        acc["encouraged"] += sum(o != "obliged" for o in members)
        acc["encouraged_wrote"] += sum(o != "obliged" for _, _, o in latest.values())
    assert len(held) == 2
    for district, acc in held.items():
        row = re.search(rf"│ {district} [^│]*│\s+([\d.]+) │\s+([\d.]+) │[^│]*│\s+([\d.]+) │[^│]*│[^│]*│\s+([\d.]+) │"
                        rf"\s+([\d.]+) │\s+([\d.]+)/([\d.]+)", out)  # fmt: skip
        assert row, (district, out)
        printed = [number(x) for x in row.groups()]
        assert printed == [
            acc["obliged"], acc["wrote"], acc["good"], acc["weak"], acc["weak"], acc["encouraged_wrote"],
            acc["encouraged"],
        ], district  # fmt: skip
        assert acc["weak"] >= 1, "every base leaves one weak essay without a rewrite"
    total = re.search(r"│ Tổng cộng \(toàn tỉnh\)\s+│\s+([\d.]+) │\s+([\d.]+) │", out)
    assert total, out
    assert [number(total.group(1)), number(total.group(2))] == [
        sum(a["obliged"] for a in held.values()),
        sum(a["wrote"] for a in held.values()),
    ]
    assert re.search(r"CS\d+ .*│ 22/11/2024 +│ 29/11/2024 +│ Trễ hạn", out), "the late base is listed (D25b)"
    assert "đường dự phòng, --priority 10): đã gửi lên" in out
    reports = data / "bao-cao"
    assert {p.suffix for p in reports.iterdir()} == {".xlsx", ".docx"}
    assert f"Đã ghi báo cáo vào thư mục {reports}" in out.replace("\n", "")


def test_demo_wipes_only_its_own_folder(tmp_path: Path) -> None:
    foreign = tmp_path / "that"
    foreign.mkdir()
    (foreign / "quan-trong.txt").write_text("dữ liệu thật", "utf-8")
    refused = run_demo("--scale", "0.02", "--data", str(foreign), "--tree-only")
    assert refused.returncode != 0
    assert "không phải của bản demo" in refused.stderr
    assert [p.name for p in foreign.iterdir()] == ["quan-trong.txt"]

    data = tmp_path / "demo"
    assert run_demo("--scale", "0.02", "--data", str(data), "--tree-only").returncode == 0
    again = run_demo("--scale", "0.02", "--data", str(data), "--tree-only")
    assert again.returncode == 0, again.stderr
    assert "Xóa dữ liệu của lần chạy demo trước" in again.stdout
    assert "tạo mới" in again.stdout
    assert "cập nhật 0" in again.stdout


CUT_OFF = date(2024, 12, 20)
"""The provincial resolution's preliminary review (D16, D20)."""


async def check_programmes_and_surveys(out: str, data: Path) -> None:
    """D14, D15, D18, D22, D26: the hub's printed programme and survey rows equal what each node recorded, counted
    here from the node databases as of the cut-off; the district's report went up and came back returned (D25b)."""
    held: dict[str, Counter[str]] = {}
    groups: Counter[str] = Counter()
    first_answer: Counter[str] = Counter()
    for folder in sorted((data / "nodes").iterdir()):
        db = Database(sqlite_url(folder / "nqsync.sqlite3"))
        try:
            async with db.read() as conn:
                me = (await conn.execute(select(Identity.unit))).scalar_one()
                parent = (await conn.execute(select(UnitRow.parent).where(UnitRow.id == me))).scalar_one()
                above = (await conn.execute(select(UnitRow.parent).where(UnitRow.id == parent))).scalar_one()
                district = (
                    folder.name
                    if above is None
                    else (await conn.execute(select(UnitRow.code).where(UnitRow.id == parent))).scalar_one()
                )
                programmes = (
                    await conn.execute(select(ActionProgrammeRow).where(ActionProgrammeRow.owner == me))
                ).all()
                progress = (await conn.execute(select(ProgressRow).where(ProgressRow.owner == me))).all()
                responses = (await conn.execute(select(SurveyResponseRow).where(SurveyResponseRow.owner == me))).all()
        finally:
            await db.dispose()
        acc = held.setdefault(district, Counter())
        for prog in programmes:
            if prog.deleted or prog.issued_on > CUT_OFF:
                continue
            acc["programmes"] += 1
            for t in prog.targets:
                mine = [p for p in progress if p.programme == prog.id and str(p.target) == t["key"]
                        and p.reported_on <= CUT_OFF and not p.deleted]  # fmt: skip
                last = max(mine, key=lambda p: (p.year, p.reported_on), default=None)
                met = last is not None and target_met(Decimal(t["baseline"]), Decimal(t["target_value"]), last.value)
                acc["targets"] += 1
                acc["reported"] += last is not None
                acc["met"] += met
                acc["overdue"] += date.fromisoformat(t["deadline"]) < CUT_OFF and not met
        live = [r for r in responses if not r.deleted and r.answered_on <= CUT_OFF]
        acc["responses"] += len(live)
        groups.update(r.group for r in live)
        first_answer.update(a["choices"][0] for r in live for a in r.answers if a["question"] == "q1")
    assert len(held) == 2
    columns = ("programmes", "targets", "reported", "met", "overdue", "responses")
    for district, acc in held.items():
        row = re.search(rf"^│ {district} [^│]*" + r"│\s+([\d.]+) " * 6 + "│$", out, re.M)
        assert row, (district, out)
        assert [number(x) for x in row.groups()] == [acc[c] for c in columns], district
        assert acc["programmes"] >= 2, "the district and its bases each built one (D14)"
        assert acc["reported"] == acc["targets"], "every target has progress by the cut-off (D18)"
    total = re.search(r"^│ Tổng cộng \(toàn tỉnh\)\s+" + r"│\s+([\d.]+) " * 6 + "│$", out, re.M)
    assert total, out
    assert [number(x) for x in total.groups()] == [sum(a[c] for a in held.values()) for c in columns]
    responses = sum(groups.values())
    assert responses > 0
    assert (
        f"{responses} phiếu (đảng viên {groups['member']}, cán bộ {groups['cadre']}, quần chúng {groups['public']})"
        in out
    ), "D22: responses by respondent group"
    assert f"Đã học tập: {first_answer['Đã học tập']} (" in out
    assert re.search(r"Tỉnh ủy trả lại báo cáo 25-BC/ĐU \(phiên bản 1\) của X\d+", out), "D25b: the hub decided"
