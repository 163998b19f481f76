"""Action programmes (D14, D15), their targets and yearly progress (D18): the rules, queries and figures.

The API, the pages and the consolidation call these functions, so a target's state (`target_state`) and the
met / overdue counts come from one place.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.core.errors import Refusal, conflict, invalid
from shared.core.scope import (
    Among,
    Caller,
    UnitInfo,
    out,
    records,
    referred,
    revise,
    save,
    subtree_units,
    units_info,
    up_select,
    writable_owner,
)
from shared.core.service import RecordKind, RecordService, Shapes, another_live, new_record
from shared.documents.service import visible_document
from shared.domain.consolidation import ProgrammeFigures, TargetState, programme_figures
from shared.domain.docnumbers import parse_document_number
from shared.domain.errors import DocumentNumberError
from shared.domain.programmes import target_state
from shared.domain.tree import UnitKind
from shared.ids import new_id
from shared.programmes.records import (
    ACTION_PROGRAMME,
    PROGRAMME_KINDS,
    PROGRAMME_PROGRESS,
    ActionProgrammeRecord,
    ProgressRecord,
    Target,
    Task,
)
from shared.programmes.schemas import (
    Programme,
    ProgrammeCoverageRow,
    ProgrammeCreate,
    ProgrammeUpdate,
    Progress,
    ProgressCreate,
    TargetIn,
    TargetProgress,
    TaskIn,
)

_PROGRAMME = ("chương trình hành động", "action programme")
PROGRAMME_BUILDERS = tuple(k.value for k in UnitKind if k is not UnitKind.CELL)
"""D14: committees, Party organisations, đảng đoàn, ban cán sự đảng and socio-political organisations build one;
*assumption*: a cell (chi bộ trực thuộc) carries out its base organisation's programme rather than building its own."""


def doc_number(text: str, field: str) -> str:
    """A document number as written, in canonical form (D5a), else 422 naming the field."""
    try:
        return parse_document_number(text).format()
    except DocumentNumberError as exc:
        raise Refusal.from_domain(exc, field=field, rule="D5a") from None


def plain(value: Decimal) -> Decimal:
    """A stored decimal without the column's trailing zeros (`99.0000` → `99`), as the user wrote it."""
    n = value.normalize()
    return n.quantize(Decimal(1)) if n == n.to_integral_value() else n


def _target(i: int, t: Target | TargetIn, issued_on: date) -> Target:
    """D15: a target with an indicator, unit of measure, baseline and its source, target value and deadline."""
    for name in ("indicator", "measure", "baseline_source"):
        if not str(getattr(t, name)).strip():
            raise invalid(
                f"targets[{i}].{name}",
                "D15",
                "Chỉ tiêu phải có chỉ số, đơn vị tính và nguồn của số liệu ban đầu.",
                "A target needs an indicator, a unit of measure and the source of its baseline.",
            )
    for name in ("baseline", "target_value"):
        if not getattr(t, name).is_finite():
            raise invalid(f"targets[{i}].{name}", "D15", "Giá trị phải là một số.", "The value must be a number.")
    if t.deadline < issued_on:
        raise invalid(
            f"targets[{i}].deadline",
            "D15",
            "Thời hạn của chỉ tiêu trước ngày ban hành chương trình.",
            "The target's deadline is before the programme was issued.",
        )
    return Target(
        t.key or new_id(),
        t.indicator.strip(),
        t.measure.strip(),
        t.baseline,
        t.baseline_source.strip(),
        t.target_value,
        t.deadline,
    )


async def _tasks(conn: AsyncConnection, owner: UnitInfo, tasks: list[Task | TaskIn]) -> list[Task]:
    """D14: every task led (and supported) by units of the building unit's subtree (D4)."""
    named = {u for t in tasks for u in (t.lead_unit, *t.supporting_units)}
    units = await units_info(conn, list(named))
    found = []
    for i, task in enumerate(tasks):
        if not task.title.strip():
            raise invalid(f"tasks[{i}].title", "D14", "Thiếu nội dung nhiệm vụ.", "The task is empty.")
        for field, unit_id in [("lead_unit", task.lead_unit)] + [
            (f"supporting_units[{j}]", u) for j, u in enumerate(task.supporting_units)
        ]:
            unit = units.get(unit_id)
            if unit is None or not owner.covers(unit):
                raise invalid(
                    f"tasks[{i}].{field}",
                    "D4",
                    f"Đơn vị {unit_id} không thuộc phạm vi của {owner.name}.",
                    f"Unit {unit_id} is not in {owner.code}'s subtree.",
                )
        found.append(
            Task(
                task.key or new_id(),
                task.title.strip(),
                task.lead_unit,
                list(dict.fromkeys(task.supporting_units)),
                task.deadline,
            )
        )
    return found


async def check_programme(conn: AsyncConnection, owner: UnitInfo, rec: ActionProgrammeRecord) -> ActionProgrammeRecord:
    """D14, D15: a known kind built by a unit that builds programmes, on a document it sees and after its signing,
    resting on a survey of the real situation, with quantitative targets; one per unit and document."""
    if rec.kind not in PROGRAMME_KINDS:
        raise invalid(
            "kind", "D14", "Loại phải là programme (chương trình) hoặc plan (kế hoạch).", "kind: programme or plan."
        )
    if owner.kind not in PROGRAMME_BUILDERS:
        raise invalid(
            "unit",
            "D14",
            "Chi bộ trực thuộc thực hiện chương trình của đảng bộ cơ sở, không xây dựng chương trình riêng.",
            "A Party cell carries out its base organisation's programme rather than building its own.",
        )
    if not rec.title.strip():
        raise invalid("title", "D14", "Thiếu tên chương trình hành động.", "The title is empty.")
    if not rec.situation.strip():
        raise invalid(
            "situation",
            "D15",
            "Trước khi xây dựng chương trình phải khảo sát, đánh giá thực trạng: hãy ghi kết quả khảo sát.",
            "The programme must rest on a survey and assessment of the real situation: describe it.",
        )
    if not rec.targets:
        raise invalid(
            "targets",
            "D15",
            "Chương trình cần ít nhất một chỉ tiêu định lượng.",
            "A programme needs at least one quantitative target.",
        )
    targets = [_target(i, t, rec.issued_on) for i, t in enumerate(rec.targets)]
    tasks = await _tasks(conn, owner, list(rec.tasks))
    number = doc_number(rec.number, "number") if rec.number.strip() else ""
    doc = await visible_document(conn, owner, rec.document, "document")
    if rec.issued_on < doc.signed_on:
        raise invalid(
            "issued_on",
            "D14",
            f"Chương trình ban hành trước ngày ký văn bản {doc.number}.",
            f"The programme is dated before {doc.number} was signed.",
        )
    if await another_live(conn, ACTION_PROGRAMME, rec, owner=owner.id, document=doc.id):
        raise conflict(
            "document",
            "D14",
            "Đơn vị đã có chương trình hành động cho văn bản này; hãy sửa chương trình đã có.",
            "The unit already has an action programme for this document; edit it.",
            code="programme.duplicate",
        )
    return msgspec.structs.replace(
        rec, number=number, title=rec.title.strip(), situation=rec.situation.strip(), targets=targets, tasks=tasks
    )


class Programmes(RecordService[ActionProgrammeRecord]):
    """Programmes; a withdrawn one takes its yearly progress reports with it (D18: they report on its targets)."""

    async def written(self, conn: AsyncConnection, rec: ActionProgrammeRecord) -> None:
        if rec.deleted:
            # Same owner, same instance as the programme (single writer): the tombstones travel where it did.
            for held in await progress_of(conn, rec.id):
                await save(conn, PROGRAMME_PROGRESS, msgspec.structs.replace(held, rev=held.rev + 1, deleted=True))


PROGRAMMES = Programmes(
    RecordKind(ACTION_PROGRAMME, _PROGRAMME, check_programme, down=True, audience_of=lambda data, owner: owner.id),
    Shapes(Programme, ProgrammeCreate, ProgrammeUpdate, lambda rec: programme_out(rec)),
)
"""A programme travels down its unit's subtree (the units carrying out its tasks read it) and up to the province."""
PROGRESS: RecordService[ProgressRecord] = RecordService(
    RecordKind(PROGRAMME_PROGRESS, ("báo cáo tiến độ", "progress")), Shapes(Progress, out=lambda rec: progress_out(rec))
)
"""Progress is reported through `report_progress` (a second report for the same year replaces the first)."""


async def progress_of(conn: AsyncConnection, programme: uuid.UUID) -> list[ProgressRecord]:
    """Every live progress report of a programme, by year."""
    table = PROGRAMME_PROGRESS.table
    stmt = select(*[table.c[n] for n in PROGRAMME_PROGRESS.columns]).where(
        table.c.programme == programme, table.c.deleted.is_(False)
    )
    return await records(conn, PROGRAMME_PROGRESS, stmt.order_by(table.c.year, table.c.reported_on))


def latest_of(target: Target, progress: Iterable[ProgressRecord]) -> ProgressRecord | None:
    """The report that counts for a target: the latest year, and of a year reported twice the later (D18)."""
    mine = [p for p in progress if p.target == target.key]
    return max(mine, key=lambda p: (p.year, p.reported_on), default=None)


def programme_out(
    rec: ActionProgrammeRecord, progress: list[ProgressRecord] | None = None, today: date | None = None
) -> Programme:
    """A programme as the API answers it; with `progress`, each target's latest value and state (D18)."""
    rows = []
    when = today or date.today()
    for t in rec.targets if progress is not None else []:
        last = latest_of(t, progress or [])
        state = target_state(t.baseline, t.target_value, t.deadline, last.value if last else None, when)
        rows.append(
            TargetProgress(
                t.key,
                last.year if last else None,
                plain(last.value) if last else None,
                state == "met",
                state,
            )
        )
    return out(rec, Programme, progress=rows)


async def programme_detail(conn: AsyncConnection, rec: ActionProgrammeRecord) -> Programme:
    """A programme with the latest progress and state of each target (D18)."""
    return programme_out(rec, await progress_of(conn, rec.id))


def progress_out(rec: ProgressRecord) -> Progress:
    return out(rec, Progress, value=plain(rec.value))


async def report_progress(conn: AsyncConnection, caller: Caller, data: ProgressCreate) -> ProgressRecord:
    """Report a target's value for a year (D18); a second report for the same year replaces the first."""
    if not data.value.is_finite():
        raise invalid("value", "D18", "Giá trị phải là một số.", "The value must be a number.")
    unknown = invalid(
        "programme",
        "D18",
        "Chương trình không có hoặc không thuộc đơn vị này: đơn vị xây dựng chương trình báo cáo tiến độ.",
        "No such programme in this unit's subtree: the unit that built it reports its progress.",
    )
    prog: ActionProgrammeRecord = await referred(
        conn, ACTION_PROGRAMME, caller.unit, data.programme, unknown, down=False
    )
    owner = await writable_owner(conn, caller, prog.owner)
    target = next((t for t in prog.targets if t.key == data.target), None)
    if target is None:
        raise invalid("target", "D15", "Chỉ tiêu không có trong chương trình.", "No such target.")
    if not prog.issued_on.year <= data.year <= max(target.deadline.year, data.reported_on.year):
        raise invalid(
            "year",
            "D18",
            f"Năm báo cáo phải từ {prog.issued_on.year} đến năm hết hạn chỉ tiêu.",
            f"The year must be from {prog.issued_on.year} to the target's deadline.",
        )
    if data.reported_on < prog.issued_on or data.reported_on.year < data.year:
        raise invalid(
            "reported_on",
            "D18",
            "Ngày báo cáo phải sau ngày ban hành chương trình và không trước năm được báo cáo.",
            "The report date must follow the programme's issue and not precede the year reported.",
        )
    held = [p for p in await progress_of(conn, prog.id) if p.target == target.key and p.year == data.year]
    changes: dict[str, Any] = {"value": data.value, "reported_on": data.reported_on, "note": data.note.strip()}
    if held:
        return await revise(conn, PROGRAMME_PROGRESS, caller, held[0], changes)
    rec = new_record(
        ProgressRecord,
        owner.id,
        programme=prog.id,
        target=target.key,
        year=data.year,
        **changes,
    )
    await save(conn, PROGRAMME_PROGRESS, rec)
    return rec


async def coverage(conn: AsyncConnection, viewer: UnitInfo, document: uuid.UUID) -> list[ProgrammeCoverageRow]:
    """Which units of a subtree have built their programme for a document (D14); cells carry out their base's."""
    table = ACTION_PROGRAMME.table
    doc = await visible_document(conn, viewer, document, "document")
    units = [u for u in await subtree_units(conn, viewer) if u.kind in PROGRAMME_BUILDERS]
    built = {
        r.owner: (r.id, r.issued_on)
        for r in await conn.execute(
            up_select(ACTION_PROGRAMME, viewer)
            .with_only_columns(table.c.owner, table.c.id, table.c.issued_on)
            .where(table.c.document == doc.id, table.c.deleted.is_(False))
        )
    }
    return [ProgrammeCoverageRow(u.id, u.code, u.name, u.depth, *built.get(u.id, (None, None))) for u in units]


async def unit_figures(
    conn: AsyncConnection, among: Among, document: uuid.UUID, cut_off: date
) -> dict[uuid.UUID, ProgrammeFigures]:
    """Programmes on the document issued by the cut-off (D14), each target's latest progress as of it (D15, D18),
    per building unit; `among(owner column)` is the caller's condition on the units that count.

    Targets live in the programme's JSON, so the met rule runs here on one row per programme and one per target
    with progress: a few per unit, never per member.
    """
    a = ACTION_PROGRAMME.table
    built = select(a.c.id).where(
        among(a.c.owner),
        a.c.deleted.is_(False),
        a.c.document == document,
        a.c.issued_on <= cut_off,
    )
    programmes = await conn.execute(built.add_columns(a.c.owner, a.c.targets).order_by(a.c.id))
    p = PROGRAMME_PROGRESS.table
    # The latest year reported by the cut-off; a year reported twice keeps its later report (D18).
    ranked = (
        select(
            p.c.programme,
            p.c.target,
            p.c.value,
            func.row_number()
            .over(partition_by=(p.c.programme, p.c.target), order_by=(p.c.year.desc(), p.c.reported_on.desc()))
            .label("rn"),
        )
        .where(p.c.deleted.is_(False), p.c.reported_on <= cut_off, p.c.programme.in_(built))
        .subquery("ranked")
    )
    latest: dict[tuple[uuid.UUID, uuid.UUID], Decimal] = {
        (r.programme, r.target): r.value
        for r in await conn.execute(select(ranked.c.programme, ranked.c.target, ranked.c.value).where(ranked.c.rn == 1))
    }
    result: dict[uuid.UUID, ProgrammeFigures] = {}
    for row in programmes:
        targets = msgspec.convert(row.targets or [], list[Target])
        states = (TargetState(t.baseline, t.target_value, t.deadline, latest.get((row.id, t.key))) for t in targets)
        held = result.get(row.owner)
        one = programme_figures(states, cut_off, new_unit=held is None)
        result[row.owner] = one if held is None else held + one
    return result
