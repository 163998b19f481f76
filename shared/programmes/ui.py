"""Chương trình hành động: programmes of a unit's subtree and those sent down to it (D14), each with its targets
(D15), yearly progress (D18) and the met / overdue state of `target_state`; forms to build, edit and report."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery

from shared.core.errors import Refusal
from shared.core.scope import units_info
from shared.documents.service import newest_documents
from shared.domain.formatting import format_date, format_decimal
from shared.domain.programmes import target_state
from shared.programmes.records import PROGRAMME_PROGRESS, ActionProgrammeRecord, ProgressRecord, Target
from shared.programmes.schemas import (
    KIND_LABELS_VI,
    TARGET_STATE_LABELS_VI,
    ProgrammeCreate,
    ProgrammeUpdate,
    ProgressCreate,
    TargetIn,
)
from shared.programmes.service import (
    PROGRAMMES,
    PROGRESS,
    latest_of,
    plain,
    progress_of,
    report_progress,
)
from shared.ui.export import xlsx_response
from shared.ui.forms import GENERAL, Form, Posted
from shared.ui.web import Frame, Listed, Page, back_to, list_page, listed_by_document_and_state, render

TARGET_ROWS = 3
"""Blank target rows a new programme's form offers (more can be added by editing it)."""
TARGET_FIELDS = {
    "indicator": "indicator",
    "measure": "measure",
    "baseline": "baseline",
    "baseline_source": "source",
    "target_value": "target",
    "deadline": "deadline",
}
"""API field of a target → the suffix of its form field (`t0_indicator` ...)."""


@dataclass(frozen=True)
class TargetRow:
    target: Target
    latest: ProgressRecord | None
    state: str


@dataclass(frozen=True)
class ProgrammeRow:
    rec: ActionProgrammeRecord
    targets: list[TargetRow]

    @property
    def state(self) -> str:
        """Overdue if any target is; met once every target is; else on track."""
        states = {t.state for t in self.targets}
        if "overdue" in states:
            return "overdue"
        return "met" if states == {"met"} else "on_track"

    def count(self, state: str) -> int:
        return sum(t.state == state for t in self.targets)


def rows_of(rec: ActionProgrammeRecord, progress: list[ProgressRecord], today: date) -> ProgrammeRow:
    rows = []
    for t in rec.targets:
        last = latest_of(t, progress)
        rows.append(
            TargetRow(
                t, last, target_state(t.baseline, t.target_value, t.deadline, last.value if last else None, today)
            )
        )
    return ProgrammeRow(rec, rows)


def fmt(value: Decimal) -> str:
    """A stored figure as written, with a decimal comma: `91.5000` → `91,5`."""
    return format_decimal(plain(value), trim=True)


def _decimal(form: Form, name: str, label: str) -> Decimal | None:
    """A number written the Vietnamese way: `1.234,5` or `91,5`."""
    text = form.text(name).replace(" ", "")
    if re.fullmatch(r"-?\d{1,3}(\.\d{3})+(,\d+)?", text):
        text = text.replace(".", "")
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        form.errors[name] = f"{label} phải là một số, ví dụ 90 hoặc 12,5."
        return None
    return value


def _refused(form: Form, exc: Refusal) -> None:
    """A refusal next to its field; a target's (`targets[1].deadline`) next to that row's input."""
    if not form.refused_row(exc, "targets", "t", TARGET_FIELDS.get, "t0_indicator"):
        form.refused(exc)
        if GENERAL in form.errors and exc.problem.field in ("unit", "kind"):
            form.errors[GENERAL] = exc.problem.message


def _read_targets(form: Form, rows: int) -> list[TargetIn]:
    """The filled target rows; a row left wholly blank is skipped."""
    found = []
    for i in range(rows):
        p = f"t{i}_"
        if not any(str(form.data.get(p + s, "")).strip() for s in TARGET_FIELDS.values()):
            continue
        indicator = form.text(p + "indicator", required="Nhập chỉ tiêu (chỉ số đo).")
        measure = form.text(p + "measure", required="Nhập đơn vị tính, ví dụ %, người.")
        baseline = _decimal(form, p + "baseline", "Số liệu ban đầu")
        source = form.text(p + "source", required="Ghi nguồn của số liệu ban đầu (D15), ví dụ kết quả khảo sát.")
        target = _decimal(form, p + "target", "Giá trị chỉ tiêu")
        deadline = form.day(p + "deadline")
        key = form.ident(p + "key")
        if baseline is not None and target is not None and deadline is not None:
            found.append(TargetIn(indicator, measure, baseline, source, target, deadline, key))
    return found


def _target_values(targets: list[Target]) -> dict[str, str]:
    values = {}
    for i, t in enumerate(targets):
        p = f"t{i}_"
        values.update(
            {
                p + "indicator": t.indicator,
                p + "measure": t.measure,
                p + "baseline": fmt(t.baseline).replace(".", ""),
                p + "source": t.baseline_source,
                p + "target": fmt(t.target_value).replace(".", ""),
                p + "deadline": format_date(t.deadline),
                p + "key": str(t.key),
            }
        )
    return values


async def _list_context(
    request: Request[Any, Any, State], frame: Page, document: uuid.UUID | None, state: str | None
) -> dict[str, Any]:
    today = date.today()
    async with request.app.state.db.read() as conn:
        where = [PROGRAMMES.rt.table.c.document == document] if document else []
        found = await PROGRAMMES.list_all(conn, frame.me, frame.viewer.id, where=where)
        ids = [p.id for p in found]
        progress = await PROGRESS.list_all(
            conn, frame.me, frame.viewer.id, where=[PROGRAMME_PROGRESS.table.c.programme.in_(ids)]
        )
        docs = await newest_documents(conn, frame.viewer)
        units = await units_info(conn, list({p.owner for p in found}))
    rows = [rows_of(p, [g for g in progress if g.programme == p.id], today) for p in found]
    if state:
        rows = [r for r in rows if r.state == state]
    rows.sort(key=lambda r: r.rec.issued_on, reverse=True)
    return {
        "rows": rows,
        "units": units,
        "docs": docs,
        "kinds": KIND_LABELS_VI,
        "states": TARGET_STATE_LABELS_VI,
        "n_targets": TARGET_ROWS,
    }


LISTED = listed_by_document_and_state(_list_context)


programmes_page = list_page("/chuong-trinh", "programmes.html", LISTED)


@get("/chuong-trinh.xlsx", dependencies=LISTED)
async def programmes_xlsx(listed: Listed) -> Response[Any]:
    """The list as filtered, one row per target."""
    units, numbers = listed["units"], listed["numbers"]
    header = (
        "Đơn vị", "Văn bản", "Số", "Tên chương trình", "Ngày ban hành", "Chỉ tiêu", "Đơn vị tính",
        "Số liệu ban đầu", "Nguồn", "Giá trị chỉ tiêu", "Thời hạn", "Năm báo cáo gần nhất", "Đạt được", "Tình trạng",
    )  # fmt: skip
    rows = [
        (
            units[r.rec.owner].name if r.rec.owner in units else "",
            numbers.get(r.rec.document, ""),
            r.rec.number,
            r.rec.title,
            r.rec.issued_on,
            t.target.indicator,
            t.target.measure,
            plain(t.target.baseline),
            t.target.baseline_source,
            plain(t.target.target_value),
            t.target.deadline,
            t.latest.year if t.latest else None,
            plain(t.latest.value) if t.latest else None,
            TARGET_STATE_LABELS_VI[t.state],
        )
        for r in listed["rows"]
        for t in r.targets
    ]
    return xlsx_response("chuong-trinh-hanh-dong.xlsx", "Chương trình hành động", header, rows)


@post("/chuong-trinh", status_code=303)
async def add_programme(request: Request[Any, Any, State], frame: Frame, form: Posted) -> Response[Any]:
    """Build the viewed unit's programme for a document, with every check of `POST /api/v1/action-programmes`."""
    document = form.ident("document", required="Chọn văn bản mà chương trình thực hiện.")
    kind = form.choice("kind", KIND_LABELS_VI, message="Chọn chương trình hay kế hoạch.")
    number = form.text("number")
    title = form.text("title", required="Nhập tên chương trình hành động.")
    issued_on = form.day("issued_on")
    situation = form.text("situation", required="Ghi kết quả khảo sát, đánh giá thực trạng (D15).")
    targets = _read_targets(form, TARGET_ROWS)
    if not targets and form.ok:
        form.errors["t0_indicator"] = "Chương trình cần ít nhất một chỉ tiêu định lượng (D15)."
    if form.ok and document is not None and issued_on is not None:
        data = ProgrammeCreate(document, title, issued_on, situation, targets, [], kind, number, frame.viewer.id)
        made = await form.save(lambda conn: PROGRAMMES.create(conn, frame.me, data), partial(_refused, form))
        if made:
            return back_to(f"/chuong-trinh/{made.value.id}", frame, saved="created")
    return form.again("programmes.html", frame, await _list_context(request, frame, None, None), saved=None)


async def _detail(request: Request[Any, Any, State], frame: Page, programme_id: uuid.UUID) -> dict[str, Any]:
    async with request.app.state.db.read() as conn:
        rec = await PROGRAMMES.get(conn, frame.me, programme_id)
        progress = await progress_of(conn, rec.id)
        docs = await newest_documents(conn, frame.viewer)
        units = await units_info(conn, [rec.owner])
    row = rows_of(rec, progress, date.today())
    return {
        "row": row,
        "rec": rec,
        "progress": sorted(progress, key=lambda p: (p.year, p.reported_on), reverse=True),
        "keys": {t.key: t for t in rec.targets},
        "owner": units.get(rec.owner),
        "doc": next((d for d in docs if d.id == rec.document), None),
        "kinds": KIND_LABELS_VI,
        "states": TARGET_STATE_LABELS_VI,
        "fmt": fmt,
        "edit_form": {
            "title": rec.title,
            "number": rec.number,
            "issued_on": format_date(rec.issued_on),
            "situation": rec.situation,
            **_target_values(rec.targets),
        },
        "edit_errors": {},
        "n_targets": len(rec.targets) + 1,
        "progress_form": {"year": str(date.today().year), "reported_on": format_date(date.today())},
        "progress_errors": {},
        "remove_form": {},
        "remove_errors": {},
        "mine": frame.can_edit and rec.owner in units and frame.me.unit.covers(units[rec.owner]),
        "editing": False,
    }


@get("/chuong-trinh/{programme_id:uuid}")
async def programme_page(
    request: Request[Any, Any, State],
    frame: Frame,
    programme_id: FromPath[uuid.UUID],
    saved: FromQuery[str | None] = None,
) -> Response[Any]:
    return render("programme.html", frame, saved=saved, **await _detail(request, frame, programme_id))


@post("/chuong-trinh/{programme_id:uuid}/sua", status_code=303)
async def edit_programme(
    request: Request[Any, Any, State], frame: Frame, form: Posted, programme_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Edit a programme and its targets; a target keeps its key, so its progress stays attached (D18)."""
    context = await _detail(request, frame, programme_id)
    title = form.text("title", required="Nhập tên chương trình hành động.")
    number = form.text("number")
    issued_on = form.day("issued_on")
    situation = form.text("situation", required="Ghi kết quả khảo sát, đánh giá thực trạng (D15).")
    targets = _read_targets(form, context["n_targets"])
    rev = form.number("rev", label="Phiên bản")
    if form.ok and issued_on is not None:
        data = ProgrammeUpdate(rev or 0, title, number, issued_on, situation, targets)
        if await form.save(lambda conn: PROGRAMMES.revise(conn, frame.me, programme_id, data), partial(_refused, form)):
            return back_to(f"/chuong-trinh/{programme_id}", frame, saved="edited")
    return form.again("programme.html", frame, context, prefix="edit_", editing=True, saved=None)


@post("/chuong-trinh/{programme_id:uuid}/tien-do", status_code=303)
async def add_progress(
    request: Request[Any, Any, State], frame: Frame, form: Posted, programme_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Report a target's value for a year (D18); the same year reported again replaces the figure."""
    target = form.ident("target", required="Chọn chỉ tiêu được báo cáo.")
    year = form.number("year", label="Năm báo cáo")
    value = _decimal(form, "value", "Giá trị đạt được")
    reported_on = form.day("reported_on")
    note = form.text("note")
    if form.ok and target is not None and year is not None and value is not None and reported_on is not None:
        data = ProgressCreate(programme_id, target, year, value, reported_on, note)
        if await form.save(lambda conn: report_progress(conn, frame.me, data)):
            return back_to(f"/chuong-trinh/{programme_id}", frame, saved="progress")
    context = await _detail(request, frame, programme_id)
    return form.again("programme.html", frame, context, prefix="progress_", saved=None)


@post("/chuong-trinh/{programme_id:uuid}/rut", status_code=303)
async def withdraw_programme(
    request: Request[Any, Any, State], frame: Frame, form: Posted, programme_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Withdraw a programme entered by mistake, with its yearly progress reports (D14, D18), as
    `DELETE /api/v1/action-programmes/{id}` does; only the unit that built it, on the instance that writes it."""
    rev = form.withdrawal("Hãy đánh dấu ô xác nhận trước khi rút chương trình.")
    if form.ok and await form.save(
        lambda conn: PROGRAMMES.delete(conn, frame.me, programme_id, rev), form.refused_above
    ):
        return back_to("/chuong-trinh", frame, saved="withdrawn")
    context = await _detail(request, frame, programme_id)
    return form.again("programme.html", frame, context, prefix="remove_", saved=None)


PAGES = (
    programmes_page,
    programmes_xlsx,
    add_programme,
    programme_page,
    edit_programme,
    add_progress,
    withdraw_programme,
)
