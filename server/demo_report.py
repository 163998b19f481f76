"""The demo's end: the hub's consolidated report (D20, D26) printed, then written as .xlsx and .docx with the
deadline reminders, by the same job functions the hub's workers run."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from rich.table import Table

from server.demo_cluster import cluster_of
from server.demo_round import PROVINCIAL
from server.jobs import REPORTS_DIR, Jobs
from shared.consolidation.labels import document_name, groups_vi, question_result_vi
from shared.consolidation.service import consolidate
from shared.db.engine import Database
from shared.domain.consolidation import BANDS, Consolidation, total
from shared.domain.formatting import format_date, format_percent
from shared.domain.formatting import format_decimal as _n
from shared.settings import Settings


async def consolidate_at_hub(run: Any) -> None:
    cluster = cluster_of(run)
    db: Database = run.db
    from shared.core.scope import unit_info

    async with db.read() as conn:
        top = await unit_info(conn, run.tree.roots[0])
        assert top is not None
        result = await consolidate(
            conn, top, uuid.UUID(cluster.documents[PROVINCIAL[0]]), "preliminary", today=run.today
        )
    cluster.consolidation = result
    console = run.console
    e = result.figures.essays
    console.print(
        f"{result.kind_vi} {document_name(result.document_number)}: số liệu tính đến ngày "
        f"{format_date(result.cut_off)} (D20), tổng hợp ngày {format_date(result.today)}."
    )
    table = Table(title="Bài thu hoạch theo đơn vị trực thuộc (lần viết gần nhất, D12, D13)", title_justify="left")
    for col in ("Đơn vị", "Bắt buộc", "Đã viết", "Tỷ lệ", *[str(b) for b in BANDS], "Yếu chưa viết lại",
                "Khuyến khích: viết/số"):  # fmt: skip
        if col == "Đơn vị":
            table.add_column(col, no_wrap=True, max_width=34, overflow="ellipsis")
        else:
            table.add_column(col, justify="right")
    shown = [r for r in result.children if r.figures.essays.wrote or r.figures.essays.obliged.members]
    for row in [
        *((f"{r.unit.code} {r.unit.name}", r.figures) for r in shown),
        ("Tổng cộng (toàn tỉnh)", result.figures),
    ]:
        label, f = row
        g = f.essays
        if label.startswith("Tổng"):
            table.add_section()
        table.add_row(
            label, _n(g.obliged.members), _n(g.obliged.wrote), g.obliged.rate, *[_n(g.band(b)) for b in BANDS],
            _n(g.rewrites_open), f"{_n(g.encouraged.wrote)}/{_n(g.encouraged.members)}",
        )  # fmt: skip
    console.print(table)
    check = result.own + total(r.figures for r in result.children) == result.figures
    console.print(
        f"Đối chiếu: tỉnh = cấp tỉnh trực tiếp + tổng {_n(len(result.children))} đơn vị trực thuộc: "
        + ("[green]khớp[/]" if check else "[red]KHÔNG KHỚP[/]")
        + f". Chưa viết (diện bắt buộc): {_n(e.shortfall)}; "
        f"đã viết lại: {_n(e.obliged.rewritten + e.encouraged.rewritten)}."
    )
    s, p, r = result.figures.study, result.figures.propaganda.total, result.figures.reports
    console.print(
        f"Học tập, quán triệt: {_n(s.sessions)} buổi, {_n(s.attended)}/{_n(s.invited)} lượt dự ({s.attendance}). "
        f"Tuyên truyền: {_n(p.activities)} hoạt động, {_n(p.reached)} lượt người."
    )
    console.print(
        f"Báo cáo sơ kết của các cấp: phải có {_n(r.expected)}, đã nhận {_n(r.received)} ({r.completeness}), "
        f"đúng hạn {_n(r.on_time)}, trễ hạn {_n(r.late)}, quá hạn chưa nộp {_n(r.overdue)}."
    )
    _print_programmes_and_surveys(console, result)
    ours = {i.code for i in [*cluster.nodes]}
    late = [i for i in result.late if i.unit.code in ours]
    if late:
        lt = Table(title="Trễ hạn, quá hạn (các đơn vị có nút trong bản demo)", title_justify="left")
        for col in ("Đơn vị", "Hạn", "Ngày tổ chức", "Tình trạng"):
            lt.add_column(col)
        for item in late:
            lt.add_row(f"{item.unit.code} {item.unit.name}", format_date(item.due),
                       format_date(item.held_on) if item.held_on else "—", item.status.value)  # fmt: skip
        console.print(lt)
    others = len(result.late) - len(late)
    if others:
        console.print(f"[dim]… và {_n(others)} đơn vị khác của tỉnh mẫu chưa có dữ liệu (không có nút trong demo).[/]")
    run.facts["round"] = (
        f"{_n(e.wrote)} bài thu hoạch ({format_percent(e.obliged.wrote, e.obliged.members)} diện bắt buộc), "
        f"{_n(e.rewrites_open)} bài Yếu chưa viết lại"
    )


def _print_programmes_and_surveys(console: Any, result: Consolidation) -> None:
    table = Table(
        title="Chương trình hành động (D14, D15, D18) và khảo sát (D22) theo đơn vị trực thuộc", title_justify="left"
    )
    table.add_column("Đơn vị", no_wrap=True, max_width=34, overflow="ellipsis")
    for col in ("Chương trình", "Chỉ tiêu", "Đã báo cáo", "Đạt", "Quá hạn chưa đạt", "Phiếu khảo sát"):
        table.add_column(col, justify="right")
    shown = [r for r in result.children if r.figures.programmes.programmes or r.figures.surveys.responses]
    rows = [(f"{r.unit.code} {r.unit.name}", r.figures) for r in shown] + [("Tổng cộng (toàn tỉnh)", result.figures)]
    for label, f in rows:
        p = f.programmes
        if label.startswith("Tổng"):
            table.add_section()
        table.add_row(label, _n(p.programmes), _n(p.targets), _n(p.reported), _n(p.met), _n(p.overdue),
                      _n(f.surveys.responses))  # fmt: skip
    console.print(table)
    for _, q in result.figures.surveys.ordered():
        console.print(f"Khảo sát «{q.title}»: {_n(q.responses)} phiếu ({groups_vi(q.by_group)}).", soft_wrap=True)
        for i, question in enumerate(q.questions, 1):
            console.print(f"  {i}. {question.text}: {question_result_vi(question)}", soft_wrap=True)


async def write_reports(run: Any) -> None:
    cluster = cluster_of(run)
    out = Path(run.data_dir) / REPORTS_DIR
    settings = Settings.load(data_dir=run.data_dir, env={})
    jobs = Jobs(settings)  # no Redis in the demo: the job functions run in this process
    paths = await jobs.run(
        "render_report", cluster.documents[PROVINCIAL[0]], "preliminary",
        today=run.today.isoformat(), out_dir=str(out), years=3,
    )  # fmt: skip
    reminders = await jobs.run("deadline_reminders", today=run.today.isoformat())
    for text in reminders:
        run.console.print(f"  • Nhắc việc: {text}")
    run.console.print(f"Đã ghi báo cáo vào thư mục {out}:", soft_wrap=True)
    run.console.print(f"  • {Path(paths['xlsx']).name} (bảng tổng hợp .xlsx)", soft_wrap=True)
    run.console.print(f"  • {Path(paths['docx']).name} (báo cáo sơ kết .docx)", soft_wrap=True)
    run.facts["files"] = f"báo cáo trong {out}"
