"""`nqsync demo`: builds a synthetic province on the embedded database and walks through what the system does.

The demo is a list of steps (`STEPS`); later features add theirs. Each step is an async function of the shared
`DemoRun`, may print with `run.console`, and keeps what later steps need on the run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.tree import Tree as RichTree

from shared.db.engine import Database
from shared.db.migrate import upgrade
from shared.domain.calendar import (
    LEAP_DAY_ASSUMPTION_VI,
    IssuingLevel,
    Milestone,
    ReviewKind,
    ReviewOverride,
    milestone_status,
    review_milestones,
)
from shared.domain.docnumbers import CENTRAL_ISSUERS, parse_document_number
from shared.domain.errors import DateError
from shared.domain.formatting import format_date, format_decimal, parse_date
from shared.domain.tree import Tree, UnitKind
from shared.sample_province import DEFAULT_SEED, SAMPLE_VALID_FROM, write_sample_xlsx
from shared.settings import Settings
from shared.tree_import import import_units
from shared.units.records import load_tree

DEMO_MARKER = ".nqsync-demo"
"""File that marks a folder as the demo's own, so the demo never wipes a folder holding real data."""

SAMPLE_FILE = "don-vi-tinh-mau.xlsx"


@dataclass(frozen=True, slots=True)
class SampleDocument:
    """A document of the demo's review calendar; `done` lists reviews already held (only shown once due)."""

    number: str
    title: str
    signed_on: date
    overrides: tuple[ReviewOverride, ...] = ()
    done: frozenset[ReviewKind] = frozenset()


SAMPLE_DOCUMENTS = (
    SampleDocument("Số: 45-NQ/TW", "Nghị quyết mẫu của Ban Chấp hành Trung ương (mô phỏng)", date(2021, 11, 24)),
    SampleDocument(
        "15-NQ/TU",
        "Nghị quyết mẫu của Tỉnh ủy (mô phỏng)",
        date(2021, 12, 20),
        done=frozenset({ReviewKind.PRELIMINARY}),
    ),
    SampleDocument(
        "Số: 09 - CT/TU",
        "Chỉ thị mẫu của Ban Thường vụ Tỉnh ủy (mô phỏng)",
        date(2023, 6, 15),
        overrides=(
            ReviewOverride(
                ReviewKind.PRELIMINARY,
                date(2026, 12, 31),
                "Lồng ghép với tổng kết công tác năm 2026 theo chỉ đạo của Ban Thường vụ Tỉnh ủy",
                "112-CV/TU",
            ),
        ),
    ),
)


@dataclass
class DemoRun:
    """What the steps share: where the demo lives, its options, and what earlier steps produced."""

    console: Console
    data_dir: Path
    db: Database
    seed: int
    scale: float
    today: date
    sample_file: Path | None = None
    tree: Tree | None = None
    facts: dict[str, str] = field(default_factory=dict)
    """Short results a step wants in the closing line, in the order added."""
    extra: dict[str, Any] = field(default_factory=dict)
    """What a later feature's steps keep for each other (the running processes of the cluster steps)."""


@dataclass(frozen=True, slots=True)
class DemoStep:
    title: str
    run: Callable[[DemoRun], Awaitable[None]]


def _n(value: int) -> str:
    return format_decimal(value)


async def create_database(run: DemoRun) -> None:
    await upgrade(run.db)


async def write_sample_file(run: DemoRun) -> None:
    run.sample_file = run.data_dir / SAMPLE_FILE
    # openpyxl is synchronous; a thread keeps the progress display alive at full scale.
    rows = await asyncio.to_thread(write_sample_xlsx, run.sample_file, seed=run.seed, scale=run.scale)
    run.console.print(f"Đã ghi tệp nhập đơn vị mẫu ({_n(rows)} dòng): {run.sample_file}", soft_wrap=True)


async def import_tree(run: DemoRun) -> None:
    assert run.sample_file is not None
    summary = await import_units(run.db, run.sample_file, default_valid_from=SAMPLE_VALID_FROM)
    async with run.db.read() as conn:
        run.tree = await load_tree(conn)
    run.console.print(
        f"Đã nhập cây đơn vị: tạo mới {_n(summary.created)}, cập nhật {_n(summary.updated)}, "
        f"không đổi {_n(summary.unchanged)}."
    )


async def show_tree_summary(run: DemoRun) -> None:
    tree = run.tree
    assert tree is not None
    console = run.console
    root = tree.roots[0]
    depth = {unit_id: tree.depth(unit_id) for unit_id in tree.units}

    by_level: Counter[tuple[str, UnitKind]] = Counter()
    armed: Counter[tuple[str, UnitKind]] = Counter()
    top: dict[tuple[str, UnitKind], int] = {}
    for unit_id, unit in tree.units.items():
        key = (unit.level, unit.kind)
        by_level[key] += 1
        armed[key] += unit.armed_forces
        top[key] = min(top.get(key, depth[unit_id]), depth[unit_id])
    table = Table(title=f"Cây đơn vị: {tree.name_of(root)}", title_justify="left")
    table.add_column("Cấp")
    table.add_column("Loại")
    table.add_column("Số đơn vị", justify="right")
    table.add_column("Lực lượng vũ trang", justify="right")
    kinds = list(UnitKind)
    for key in sorted(by_level, key=lambda k: (top[k], kinds.index(k[1]), k[0])):
        table.add_row(key[0], key[1].label_vi, _n(by_level[key]), _n(armed[key]))
    table.add_section()
    table.add_row("Tổng cộng", "", _n(len(tree.units)), _n(sum(armed.values())))
    console.print(table)

    branch_depth: Counter[int] = Counter()
    for child in tree.children(root):
        branch_depth[1 + max(depth[u] for u in tree.subtree(child))] += 1
    depths = Table(title="Phân bố theo độ sâu (Tỉnh ủy = 0)", title_justify="left")
    depths.add_column("Độ sâu", justify="right")
    depths.add_column("Số đơn vị", justify="right")
    for d, count in sorted(Counter(depth.values()).items()):
        depths.add_row(str(d), _n(count))
    console.print(depths)
    console.print(
        "Nhánh trực thuộc Tỉnh ủy theo số cấp: "
        + "; ".join(f"{levels} cấp: {_n(n)} nhánh" for levels, n in sorted(branch_depth.items()))
    )

    forces = Table(title="Nhánh lực lượng vũ trang (D3: tự lập kế hoạch học tập)", title_justify="left")
    forces.add_column("Mã")
    forces.add_column("Tên")
    forces.add_column("Cơ sở", justify="right")
    forces.add_column("Chi bộ", justify="right")
    for child in tree.children(root):
        if tree.units[child].armed_forces:
            below = Counter(tree.units[u].kind.label_vi for u in tree.subtree(child) if u != child)
            forces.add_row(
                tree.code_of(child),
                tree.name_of(child),
                _n(sum(n for k, n in below.items() if k != "Chi bộ")),
                _n(below["Chi bộ"]),
            )
    console.print(forces)

    # One child of each kind of branch (four-level, armed forces, commune), so the excerpt shows the tree's shapes.
    shown: list[tuple[str, bool]] = []
    picked: list[uuid.UUID] = []
    for child in tree.children(root):
        shape = (tree.units[child].level, tree.units[child].armed_forces)
        if shape not in shown and len(picked) < 3:
            shown.append(shape)
            picked.append(child)
    excerpt = RichTree(f"[bold]{tree.code_of(root)}[/] {tree.name_of(root)}")
    for child in picked:
        node = excerpt.add(f"[bold]{tree.code_of(child)}[/] {tree.name_of(child)} ({tree.units[child].level})")
        kids = tree.children(child)
        for kid in kids[:3]:
            grand = tree.children(kid)
            extra = f", {_n(len(grand))} chi bộ trực thuộc" if grand else ""
            node.add(f"{tree.code_of(kid)} {tree.name_of(kid)}{extra}")
        if len(kids) > 3:
            node.add(f"[dim]… và {_n(len(kids) - 3)} đơn vị khác[/]")
    if len(tree.children(root)) > len(picked):
        excerpt.add(f"[dim]… và {_n(len(tree.children(root)) - len(picked))} đơn vị trực thuộc khác[/]")
    console.print("Trích cây đơn vị:")
    console.print(excerpt)

    levels: Counter[str] = Counter()
    for (level, _kind), count in sorted(by_level.items(), key=lambda item: (top[item[0]], kinds.index(item[0][1]))):
        levels[level] += count
    run.facts["units"] = f"{_n(len(tree.units))} đơn vị (" + "; ".join(f"{k} {_n(n)}" for k, n in levels.items()) + ")"
    run.facts["armed"] = f"{_n(sum(armed.values()))} đơn vị lực lượng vũ trang"


def _level_of(number: str) -> IssuingLevel:
    issuer = parse_document_number(number).issuer
    return IssuingLevel.CENTRAL if issuer in CENTRAL_ISSUERS else IssuingLevel.PROVINCE


async def show_review_calendar(run: DemoRun) -> None:
    console = run.console
    console.print("Văn bản mẫu:")
    for doc in SAMPLE_DOCUMENTS:
        console.print(f"  • {parse_document_number(doc.number)}, ký ngày {format_date(doc.signed_on)}: {doc.title}")
    table = Table(title=f"Lịch sơ kết, tổng kết (D16-D20), trạng thái ngày {format_date(run.today)}")
    table.add_column("Văn bản", no_wrap=True)
    table.add_column("Mốc", no_wrap=True)
    table.add_column("Đến hạn", no_wrap=True)
    table.add_column("Hạn ban hành kế hoạch", no_wrap=True)
    table.add_column("Trạng thái")
    notes: list[str] = []
    for doc in SAMPLE_DOCUMENTS:
        number = parse_document_number(doc.number)
        level = _level_of(doc.number)
        milestones: tuple[Milestone, ...] = review_milestones(
            str(number), doc.signed_on, level, overrides=doc.overrides
        )
        for i, milestone in enumerate(milestones):
            kind = milestone.kind.value
            if milestone.override is not None:
                notes.append(
                    f"({len(notes) + 1}) {milestone.kind.value} {number} dời từ {format_date(milestone.scheduled_due)} "
                    f"sang {format_date(milestone.due)}: {milestone.override.reason} "
                    f"(văn bản chỉ đạo {milestone.override.instructing_document})."
                )
                kind = f"{kind} ({len(notes)})"
            done = milestone.kind in doc.done and milestone.due <= run.today
            table.add_row(
                f"{number}\n{level.value}" if i == 0 else "",
                kind,
                format_date(milestone.due),
                format_date(milestone.plan_deadline),
                milestone_status(milestone, today=run.today, done=done).value,
            )
        table.add_section()
    console.print(table)
    for note in notes:
        console.print(note)
    console.print(
        f"[dim]Giả định: {LEAP_DAY_ASSUMPTION_VI} Kế hoạch sơ kết, tổng kết ban hành trước ít nhất 2 tháng (D20).[/]"
    )
    run.facts["calendar"] = f"lịch sơ kết, tổng kết của {len(SAMPLE_DOCUMENTS)} văn bản mẫu"


STEPS: list[DemoStep] = [
    DemoStep("Tạo cơ sở dữ liệu nhúng (SQLite)", create_database),
    DemoStep("Sinh tỉnh mẫu và ghi tệp nhập đơn vị", write_sample_file),
    DemoStep("Nhập cây đơn vị từ tệp", import_tree),
    DemoStep("Tóm tắt cây đơn vị", show_tree_summary),
    DemoStep("Lịch sơ kết, tổng kết", show_review_calendar),
]


def _cluster_steps() -> list[DemoStep]:
    from server import demo_cluster as c
    from server import demo_report as report
    from server import demo_round as entry

    return [
        DemoStep("Khởi động máy chủ tỉnh (tiến trình riêng)", c.start_hub),
        DemoStep("Tỉnh ủy nhập nghị quyết và kế hoạch sơ kết, tổng kết", entry.enter_documents),
        DemoStep("Tỉnh ủy phát phiếu khảo sát về nghị quyết", entry.issue_questionnaire),
        DemoStep("Khởi động và đăng ký các nút huyện, cơ sở", c.start_nodes),
        DemoStep("Cơ sở nhập danh sách, chấm bài thu hoạch, học tập, tuyên truyền", entry.record_round),
        DemoStep("Khảo sát, chương trình hành động, dự thảo báo cáo sơ kết", entry.record_programmes_and_surveys),
        DemoStep("Đồng bộ lên cấp trên (một huyện ngừng hoạt động)", c.sync_up),
        DemoStep("Tỉnh ủy xem xét báo cáo sơ kết của cấp dưới", entry.decide_on_drafts),
        DemoStep("Tỉnh ủy tổng hợp số liệu sơ kết", report.consolidate_at_hub),
        DemoStep("Xuất báo cáo .xlsx và .docx", report.write_reports),
    ]


BASE_STEPS = len(STEPS)
STEPS.extend(_cluster_steps())


def prepare_folder(console: Console, data_dir: Path) -> None:
    """Start from an empty folder; refuse to wipe one that the demo did not create."""
    if data_dir.exists() and any(data_dir.iterdir()):
        if not (data_dir / DEMO_MARKER).exists():
            raise click.ClickException(
                f"Thư mục {data_dir} đã có dữ liệu không phải của bản demo; hãy chọn thư mục khác bằng --data."
            )
        console.print(f"Xóa dữ liệu của lần chạy demo trước trong {data_dir}", soft_wrap=True)
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / DEMO_MARKER).write_text("Thư mục của `nqsync demo`; bị xóa và tạo lại mỗi lần chạy.\n", "utf-8")


async def run_demo(
    console: Console, data_dir: Path, *, scale: float, seed: int, today: date, steps: list[DemoStep] | None = None
) -> DemoRun:
    steps = STEPS if steps is None else steps
    prepare_folder(console, data_dir)
    # The demo always uses the embedded database in its own folder, whatever NQSYNC_DATABASE_URL says.
    settings = Settings.load(data_dir=data_dir, env={})
    run = DemoRun(console, settings.data_dir, Database(settings.database.url), seed, scale, today)
    started = time.perf_counter()
    try:
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("Bắt đầu", total=len(steps))
            for step in steps:
                progress.update(task, description=step.title)
                console.rule(step.title)
                await step.run(run)
                progress.advance(task)
    finally:
        from server.demo_cluster import stop_cluster

        await stop_cluster(run)
        await run.db.dispose()
    elapsed = Decimal(time.perf_counter() - started).quantize(Decimal("0.1"))
    console.print(
        f"Hoàn thành trong {format_decimal(elapsed)} giây: " + ", ".join(run.facts.values()) + ".", soft_wrap=True
    )
    console.print(f"Cơ sở dữ liệu: {settings.database.url.split(':///', 1)[-1]}", soft_wrap=True)
    return run


def _parse_today(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return parse_date(value)
    except DateError as exc:
        raise click.BadParameter(exc.message_vi) from None


@click.command("demo")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default="nqsync-demo",
    show_default=True,
    help="Thư mục của bản demo; bị xóa và tạo lại mỗi lần chạy (chỉ khi đó là thư mục demo).",
)
@click.option(
    "--scale",
    type=click.FloatRange(min=0, min_open=True, max=5),
    default=1.0,
    show_default=True,
    help="Kích thước tỉnh mẫu: 1 = khoảng 100 đơn vị trực thuộc, 2.000 cơ sở, 6.000 chi bộ.",
)
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Hạt giống sinh dữ liệu mẫu.")
@click.option("--today", callback=_parse_today, help="Ngày tính trạng thái (dd/mm/yyyy); mặc định là hôm nay.")
@click.option("--tree-only", is_flag=True, help="Chỉ dựng cây đơn vị và lịch, không chạy máy chủ, các nút và báo cáo.")
def demo(data_dir: Path, scale: float, seed: int, today: date, tree_only: bool) -> None:
    """Dựng một tỉnh mô phỏng: máy chủ tỉnh và các nút huyện, cơ sở là các tiến trình thật; đồng bộ, tổng hợp
    số liệu sơ kết và xuất báo cáo .xlsx, .docx."""
    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        # Piped into a log or `tee`, Rich assumes 80 columns and cuts the summary's tables: they need about 120.
        console = Console(highlight=False, width=120)
    steps = STEPS[:BASE_STEPS] if tree_only else STEPS
    asyncio.run(run_demo(console, data_dir.resolve(), scale=scale, seed=seed, today=today, steps=steps))
