"""Tổng hợp sơ kết, tổng kết: a level's consolidated figures for one review of a document (D20, D26), as
`GET /api/v1/consolidations` computes them, with the .xlsx and .docx downloads.

Each section of the figures is one small builder below (`SECTIONS`) that turns a consolidation into a `Section`:
its headline figures and one table row per child unit; the template renders any `Section` the same way, so a new
section of `Figures` is one more builder.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.datastructures import FormMultiDict, State

from shared.consolidation.labels import KIND_TITLE, question_result_vi
from shared.consolidation.query import KINDS, ConsolidationQuery, consolidation_for
from shared.core.errors import Refusal
from shared.documents.service import visible_documents
from shared.domain.consolidation import BANDS, CHANNEL_LABELS_VI, CHANNELS, GROUP_LABELS_VI, Consolidation, Figures
from shared.domain.formatting import format_date, format_decimal
from shared.ui.forms import Form
from shared.ui.web import Frame, render


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    cells: Sequence[str]
    total: bool = False


@dataclass(frozen=True, slots=True)
class Section:
    """One section of the report as the page shows it: headline figures, then a table with a row per child unit."""

    key: str
    title: str
    headline: Sequence[tuple[str, str]]
    groups: Sequence[tuple[str, int]]
    """Header cells above the columns: (label, how many columns it spans); under an empty label the columns stand
    alone, their own headers spanning both header rows."""
    columns: Sequence[str]
    rows: Sequence[Row]
    note: str = ""


def _n(value: int) -> str:
    return format_decimal(value)


def _rows(c: Consolidation, cells: Callable[[Figures], Sequence[str]]) -> list[Row]:
    """The level's own records, each child's subtree, then the whole (= own + children, D26)."""
    own = Row(f"{c.top.name} (cấp mình)", cells(c.own))
    children = [Row(r.unit.name, cells(r.figures)) for r in c.children]
    return [own, *children, Row(f"Toàn {c.top.name}", cells(c.figures), total=True)]


def essays_section(c: Consolidation) -> Section:
    e = c.figures.essays

    def cells(f: Figures) -> list[str]:
        groups = [x for g in (f.essays.obliged, f.essays.encouraged) for x in (_n(g.members), _n(g.wrote), g.rate)]
        return [*groups, *[_n(f.essays.band(b)) for b in BANDS], _n(f.essays.rewrites_open)]

    return Section(
        "essays",
        "Bài thu hoạch (D12, D13)",
        [
            ("Tỷ lệ viết bài — diện bắt buộc", e.obliged.rate),
            ("Tỷ lệ viết bài — diện khuyến khích", e.encouraged.rate),
            ("Bắt buộc mà chưa viết", _n(e.shortfall)),
            *[(f"Xếp loại {b}", _n(e.band(b))) for b in BANDS],
            ("Bài Yếu phải viết lại", _n(e.rewrites_open)),
        ],
        [("Bắt buộc viết", 3), ("Khuyến khích viết", 3), ("Xếp loại (bài gần nhất)", len(BANDS)), ("", 1)],
        ["Số đảng viên", "Đã viết", "Tỷ lệ", "Số đảng viên", "Đã viết", "Tỷ lệ", *BANDS, "Phải viết lại"],
        _rows(c, cells),
        "Diện khuyến khích (miễn sinh hoạt, sức khỏe, trên 60 tuổi, nghỉ hưu, không giữ chức vụ ở chi bộ nông thôn) "
        "không viết thì không tính là thiếu (D12). Xếp loại theo bài gần nhất của mỗi đảng viên (D13).",
    )


def study_section(c: Consolidation) -> Section:
    s = c.figures.study

    def cells(f: Figures) -> list[str]:
        return [_n(f.study.sessions), _n(f.study.invited), _n(f.study.attended), f.study.attendance]

    return Section(
        "study",
        "Học tập, quán triệt (D8)",
        [("Số hội nghị, buổi học", _n(s.sessions)), ("Tỷ lệ tham dự", s.attendance)],
        [],
        ["Số buổi", "Được triệu tập", "Tham dự", "Tỷ lệ tham dự"],
        _rows(c, cells),
    )


def propaganda_section(c: Consolidation) -> Section:
    total = c.figures.propaganda.total

    def cells(f: Figures) -> list[str]:
        p = f.propaganda
        per_channel = [_n(getattr(p.channel(ch), a)) for ch in CHANNELS for a in ("activities", "reached")]
        return [*per_channel, _n(p.total.activities), _n(p.total.reached)]

    return Section(
        "propaganda",
        "Tuyên truyền theo kênh (D9)",
        [("Số lượt, buổi tuyên truyền", _n(total.activities)), ("Số người được tiếp cận", _n(total.reached))],
        [*[(CHANNEL_LABELS_VI[ch], 2) for ch in CHANNELS], ("Cộng", 2)],
        ["Lượt", "Người"] * (len(CHANNELS) + 1),
        _rows(c, cells),
    )


def reports_section(c: Consolidation) -> Section:
    """What `received`/`expected` count: the reporting units (committees and base organisations, the level itself
    included) that recorded holding this review, each on time by its own level's due date (D21, D25a, D25b)."""
    r = c.figures.reports
    review = c.kind_vi.lower()
    pending = r.expected - r.received - r.overdue

    def cells(f: Figures) -> list[str]:
        x = f.reports
        return [_n(x.expected), _n(x.received), _n(x.on_time), _n(x.late), _n(x.overdue), x.completeness, x.timeliness]

    return Section(
        "reports",
        f"Các đơn vị đã tổ chức {review} (D21, D25b)",
        [
            (f"Đơn vị đã tổ chức {review} / phải tổ chức", f"{_n(r.received)}/{_n(r.expected)}"),
            ("Trong đó đúng hạn của cấp mình", _n(r.on_time)),
            ("Trong đó muộn hơn hạn", _n(r.late)),
            ("Quá hạn, chưa tổ chức", _n(r.overdue)),
            ("Chưa đến hạn", _n(pending)),
        ],
        [],
        [
            "Đơn vị phải tổ chức",
            "Đã tổ chức",
            "Đúng hạn",
            "Muộn hơn hạn",
            "Quá hạn, chưa tổ chức",
            "Tỷ lệ đã tổ chức",
            "Tỷ lệ đúng hạn",
        ],
        _rows(c, cells),
        f"Tính {_n(r.expected)} đơn vị phải tự tổ chức {review}: các cấp ủy và tổ chức cơ sở đảng của {c.top.name}, "
        f"kể cả {c.top.name} (dòng «cấp mình»), theo tổ chức ngày {format_date(c.cut_off)}; chi bộ trực thuộc tổ "
        "chức cùng đảng bộ cơ sở; đơn vị được đánh dấu lực lượng vũ trang không tính vì theo hướng dẫn riêng "
        "(D3). Một đơn vị được tính là đã tổ chức khi đã ghi ở trang «Sơ kết, tổng kết đã tổ chức»; đúng hạn "
        "khi ngày tổ chức không muộn hơn hạn của cấp đó (cơ sở trước, cấp trên sau: D21, D25a). Hai tỷ lệ đều "
        "tính trên số đơn vị phải tổ chức. Mỗi dòng của bảng là một đơn vị trực thuộc cùng các đơn vị cấp dưới "
        "của nó. Dự thảo, trình và ban hành báo cáo theo dõi ở trang «Báo cáo sơ kết, tổng kết».",
    )


def programmes_section(c: Consolidation) -> Section:
    p = c.figures.programmes

    def cells(f: Figures) -> list[str]:
        x = f.programmes
        return [_n(x.programmes), _n(x.units), _n(x.targets), _n(x.reported), _n(x.met), x.met_rate, _n(x.overdue)]

    return Section(
        "programmes",
        "Chương trình hành động và chỉ tiêu (D14, D15, D18)",
        [
            ("Số chương trình, kế hoạch", _n(p.programmes)),
            ("Chỉ tiêu đạt", f"{_n(p.met)}/{_n(p.targets)} ({p.met_rate})"),
            ("Chỉ tiêu quá hạn chưa đạt", _n(p.overdue)),
        ],
        [],
        ["Chương trình", "Đơn vị có", "Chỉ tiêu", "Đã báo cáo", "Đạt", "Tỷ lệ đạt", "Quá hạn chưa đạt"],
        _rows(c, cells),
        "Một chỉ tiêu đạt khi số liệu báo cáo gần nhất đến mốc tính số liệu đạt giá trị mục tiêu (D15, D18).",
    )


def surveys_section(c: Consolidation) -> Section:
    s = c.figures.surveys

    def cells(f: Figures) -> list[str]:
        return [*[_n(f.surveys.group(g)) for g in GROUP_LABELS_VI], _n(f.surveys.responses)]

    return Section(
        "surveys",
        "Khảo sát (D22)",
        [(q.title, f"{_n(q.responses)} phiếu") for _id, q in s.ordered()] or [("Phiếu khảo sát", "chưa có")],
        [("Số phiếu theo đối tượng", len(GROUP_LABELS_VI) + 1)],
        [*GROUP_LABELS_VI.values(), "Cộng"],
        _rows(c, cells),
        "; ".join(f"{q.text}: {question_result_vi(q)}" for _id, qf in s.ordered() for q in qf.questions),
    )


SECTIONS: tuple[Callable[[Consolidation], Section], ...] = (
    essays_section,
    study_section,
    propaganda_section,
    reports_section,
    programmes_section,
    surveys_section,
)


def downloads(c: Consolidation, unit: uuid.UUID, cut_off: date | None) -> dict[str, str]:
    """The API's export addresses for the same question (the session cookie signs them in)."""
    query = {"document": str(c.document), "kind": c.kind, "unit": str(unit)}
    if cut_off is not None:
        query["cut_off"] = cut_off.isoformat()
    return {ext: f"/api/v1/consolidations/export.{ext}?{urlencode(query)}" for ext in ("xlsx", "docx")}


@get("/tong-hop")
async def consolidation_page(request: Request[Any, Any, State], frame: Frame) -> Response[Any]:
    """The choice of document, review and cut-off; the figures once a document is chosen (nothing on bad input)."""
    db = request.app.state.db
    async with db.read() as conn:
        docs = sorted(await visible_documents(conn, frame.viewer), key=lambda d: (d.signed_on, d.number), reverse=True)
    form = Form(FormMultiDict(request.query_params), db)
    asked = "document" in request.query_params
    document = form.ident("document", required="Chọn văn bản cần tổng hợp.") if asked else None
    kind = form.choice("kind", KINDS, message="Chọn sơ kết hoặc tổng kết.") if asked else "preliminary"
    cut_off = form.day("cut_off", required=False) if asked else None
    c: Consolidation | None = None
    if asked and form.ok and document is not None:
        try:
            async with db.read() as conn:
                c = await consolidation_for(
                    conn, frame.me, ConsolidationQuery(document, kind, frame.viewer.id, cut_off)
                )
        except Refusal as exc:
            form.refused(exc)
    values = form.values if asked else {"kind": "preliminary", "document": str(docs[0].id) if docs else ""}
    return render(
        "consolidation.html",
        frame,
        status_code=422 if form.errors else 200,
        docs=docs,
        kinds=[(k, KIND_TITLE[k]) for k in KINDS],
        form=values,
        errors=form.errors,
        c=c,
        sections=[build(c) for build in SECTIONS] if c else [],
        downloads=downloads(c, frame.viewer.id, cut_off) if c else {},
    )


PAGES = (consolidation_page,)
