"""Action programmes (D14, D15) with targets and tasks, progress against each target (D18), and coverage."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.core.errors import Refusal, invalid
from shared.core.scope import (
    Caller,
    UnitInfo,
    check_rev,
    down_select,
    get_visible,
    out,
    page,
    records,
    revise,
    save,
    subtree_units,
    unit_in_scope,
    units_info,
    up_select,
    writable_owner,
)
from shared.db.engine import Database
from shared.documents.service import visible_document
from shared.domain.docnumbers import parse_document_number
from shared.domain.errors import DocumentNumberError
from shared.domain.programmes import target_met
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


class TargetIn(msgspec.Struct, frozen=True):
    indicator: str
    """What is measured (chỉ tiêu), e.g. "Tỷ lệ đảng viên viết bài thu hoạch"."""
    measure: str
    """Unit of measure (đơn vị tính): %, người, lượt ..."""
    baseline: Decimal
    baseline_source: str
    """Where the baseline comes from (D15: the survey of the real situation)."""
    target_value: Decimal
    deadline: date
    key: uuid.UUID | None = None
    """Keep the key of an existing target when editing, so its progress stays attached."""


class TaskIn(msgspec.Struct, frozen=True):
    title: str
    lead_unit: uuid.UUID
    supporting_units: list[uuid.UUID] = msgspec.field(default_factory=list)
    deadline: date | None = None
    key: uuid.UUID | None = None


class TargetProgress(msgspec.Struct, frozen=True):
    key: uuid.UUID
    latest_year: int | None
    latest_value: Decimal | None
    achieved: bool
    """The latest value has reached the target value (in the direction from the baseline)."""


class Programme(msgspec.Struct, frozen=True):
    id: uuid.UUID
    unit: uuid.UUID
    """The unit that built it; it reaches that unit's subtree and travels up to the province."""
    rev: int
    document: uuid.UUID
    kind: str
    number: str
    title: str
    issued_on: date
    situation: str
    targets: list[Target]
    tasks: list[Task]
    progress: list[TargetProgress] = msgspec.field(default_factory=list)


class ProgrammeCreate(msgspec.Struct, frozen=True):
    document: uuid.UUID
    title: str
    issued_on: date
    situation: str
    """D15: the survey and assessment of the real situation, with data, done before building the programme."""
    targets: list[TargetIn]
    tasks: list[TaskIn] = msgspec.field(default_factory=list)
    kind: str = "programme"
    """`programme` (chương trình hành động) or `plan` (kế hoạch)."""
    number: str = ""
    """Its own number, e.g. `05-CTr/HU` (D5a), once issued."""
    unit: uuid.UUID | None = None


class ProgrammeUpdate(msgspec.Struct, frozen=True):
    rev: int | msgspec.UnsetType = msgspec.UNSET
    title: str | msgspec.UnsetType = msgspec.UNSET
    number: str | msgspec.UnsetType = msgspec.UNSET
    issued_on: date | msgspec.UnsetType = msgspec.UNSET
    situation: str | msgspec.UnsetType = msgspec.UNSET
    targets: list[TargetIn] | msgspec.UnsetType = msgspec.UNSET
    tasks: list[TaskIn] | msgspec.UnsetType = msgspec.UNSET


async def _build(
    conn: AsyncConnection,
    owner: UnitInfo,
    *,
    kind: str,
    number: str,
    title: str,
    issued_on: date,
    situation: str,
    targets: list[TargetIn],
    tasks: list[TaskIn],
) -> tuple[str, list[Target], list[Task]]:
    """D14, D15 checks; returns the canonical number and the targets and tasks with their keys."""
    if kind not in PROGRAMME_KINDS:
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
    if not title.strip():
        raise invalid("title", "D14", "Thiếu tên chương trình hành động.", "The title is empty.")
    if not situation.strip():
        raise invalid(
            "situation",
            "D15",
            "Trước khi xây dựng chương trình phải khảo sát, đánh giá thực trạng: hãy ghi kết quả khảo sát.",
            "The programme must rest on a survey and assessment of the real situation: describe it.",
        )
    if not targets:
        raise invalid(
            "targets",
            "D15",
            "Chương trình cần ít nhất một chỉ tiêu định lượng.",
            "A programme needs at least one quantitative target.",
        )
    out_targets = []
    for i, t in enumerate(targets):
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
        out_targets.append(
            Target(
                t.key or new_id(),
                t.indicator.strip(),
                t.measure.strip(),
                t.baseline,
                t.baseline_source.strip(),
                t.target_value,
                t.deadline,
            )
        )
    named = {u for t in tasks for u in (t.lead_unit, *t.supporting_units)}
    units = await units_info(conn, list(named))
    out_tasks = []
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
        out_tasks.append(
            Task(
                task.key or new_id(),
                task.title.strip(),
                task.lead_unit,
                list(dict.fromkeys(task.supporting_units)),
                task.deadline,
            )
        )
    return (doc_number(number, "number") if number.strip() else ""), out_targets, out_tasks


async def _progress(conn: AsyncConnection, programme: uuid.UUID) -> list[ProgressRecord]:
    table = PROGRAMME_PROGRESS.table
    stmt = select(*[table.c[n] for n in PROGRAMME_PROGRESS.columns]).where(
        table.c.programme == programme, table.c.deleted.is_(False)
    )
    return await records(conn, PROGRAMME_PROGRESS, stmt.order_by(table.c.year))


def programme_out(rec: ActionProgrammeRecord, progress: list[ProgressRecord] | None = None) -> Programme:
    rows = []
    for t in rec.targets if progress is not None else []:
        mine = [p for p in progress or [] if p.target == t.key]
        last = max(mine, key=lambda p: (p.year, p.reported_on), default=None)
        rows.append(
            TargetProgress(
                t.key,
                last.year if last else None,
                plain(last.value) if last else None,
                last is not None and target_met(t.baseline, t.target_value, last.value),
            )
        )
    return out(rec, Programme, progress=rows)


class ProgrammeCoverageRow(msgspec.Struct, frozen=True):
    unit: uuid.UUID
    code: str
    name: str
    depth: int
    programme: uuid.UUID | None
    issued_on: date | None


class ProgrammeController(Controller):
    path = "/action-programmes"
    tags = ["action programmes"]  # noqa: RUF012

    @get("/")
    async def list_programmes(
        self,
        state: State,
        caller: NamedDependency[Caller],
        document: FromQuery[uuid.UUID | None] = None,
        unit: FromQuery[uuid.UUID | None] = None,
        after: FromQuery[uuid.UUID | None] = None,
        limit: FromQuery[int] = 200,
    ) -> list[Programme]:
        """Programmes built in a unit's subtree, and those of the levels above it (they travel down)."""
        db: Database = state.db
        table = ACTION_PROGRAMME.table
        async with db.read() as conn:
            viewer = await unit_in_scope(conn, caller, unit)
            stmt = down_select(ACTION_PROGRAMME, viewer)
            if document is not None:
                stmt = stmt.where(table.c.document == document)
            rows = await records(conn, ACTION_PROGRAMME, page(stmt, ACTION_PROGRAMME, after, limit))
        return [programme_out(r) for r in rows]

    @post("/")
    async def create(self, state: State, caller: NamedDependency[Caller], data: JSONBody[ProgrammeCreate]) -> Programme:
        """Build a unit's action programme or plan for a document (D14) with quantitative targets (D15)."""
        db: Database = state.db
        table = ACTION_PROGRAMME.table
        async with db.write() as conn:
            owner = await writable_owner(conn, caller, data.unit or caller.unit.id)
            doc = await visible_document(conn, owner, data.document, "document")
            number, targets, tasks = await _build(
                conn,
                owner,
                kind=data.kind,
                number=data.number,
                title=data.title,
                issued_on=data.issued_on,
                situation=data.situation,
                targets=data.targets,
                tasks=data.tasks,
            )
            if data.issued_on < doc.signed_on:
                raise invalid(
                    "issued_on",
                    "D14",
                    f"Chương trình ban hành trước ngày ký văn bản {doc.number}.",
                    f"The programme is dated before {doc.number} was signed.",
                )
            dup = (
                await conn.execute(
                    select(table.c.id).where(
                        table.c.owner == owner.id, table.c.document == doc.id, table.c.deleted.is_(False)
                    )
                )
            ).first()
            if dup is not None:
                raise Refusal(
                    409,
                    "programme.duplicate",
                    "Đơn vị đã có chương trình hành động cho văn bản này; hãy sửa chương trình đã có.",
                    "The unit already has an action programme for this document; edit it.",
                    field="document",
                    rule="D14",
                )
            rec = ActionProgrammeRecord(
                id=new_id(),
                owner=owner.id,
                audience=owner.id,
                rev=1,
                deleted=False,
                document=doc.id,
                kind=data.kind,
                number=number,
                title=data.title.strip(),
                issued_on=data.issued_on,
                situation=data.situation.strip(),
                targets=targets,
                tasks=tasks,
            )
            await save(conn, ACTION_PROGRAMME, rec)
        return programme_out(rec, [])

    @get("/{programme_id:uuid}")
    async def get_programme(
        self, state: State, caller: NamedDependency[Caller], programme_id: FromPath[uuid.UUID]
    ) -> Programme:
        """A programme with the latest progress of each target (D18)."""
        db: Database = state.db
        async with db.read() as conn:
            rec = await get_visible(conn, ACTION_PROGRAMME, caller.unit, programme_id, down=True, what=_PROGRAMME)
            return programme_out(rec, await _progress(conn, rec.id))

    @patch("/{programme_id:uuid}")
    async def edit(
        self,
        state: State,
        caller: NamedDependency[Caller],
        programme_id: FromPath[uuid.UUID],
        data: JSONBody[ProgrammeUpdate],
    ) -> Programme:
        """Edit a programme; targets keep their keys (and so their progress) when the key is sent back."""
        db: Database = state.db
        async with db.write() as conn:
            held: ActionProgrammeRecord = await get_visible(
                conn, ACTION_PROGRAMME, caller.unit, programme_id, down=True, what=_PROGRAMME
            )
            owner = await writable_owner(conn, caller, held.owner)
            check_rev(data.rev, held)

            def pick(value: object, old: object) -> object:
                return old if value is msgspec.UNSET else value

            targets = data.targets if isinstance(data.targets, list) else [_target_in(t) for t in held.targets]
            tasks = data.tasks if isinstance(data.tasks, list) else [_task_in(t) for t in held.tasks]
            issued_on = data.issued_on if isinstance(data.issued_on, date) else held.issued_on
            number, new_targets, new_tasks = await _build(
                conn,
                owner,
                kind=held.kind,
                number=str(pick(data.number, held.number)),
                title=str(pick(data.title, held.title)),
                issued_on=issued_on,
                situation=str(pick(data.situation, held.situation)),
                targets=targets,
                tasks=tasks,
            )
            new = await revise(
                conn,
                ACTION_PROGRAMME,
                caller,
                held,
                {
                    "number": number,
                    "title": str(pick(data.title, held.title)).strip(),
                    "issued_on": issued_on,
                    "situation": str(pick(data.situation, held.situation)).strip(),
                    "targets": new_targets,
                    "tasks": new_tasks,
                },
            )
            return programme_out(new, await _progress(conn, new.id))

    @delete("/{programme_id:uuid}", status_code=204)
    async def remove(self, state: State, caller: NamedDependency[Caller], programme_id: FromPath[uuid.UUID]) -> None:
        db: Database = state.db
        async with db.write() as conn:
            held = await get_visible(conn, ACTION_PROGRAMME, caller.unit, programme_id, down=True, what=_PROGRAMME)
            await revise(conn, ACTION_PROGRAMME, caller, held, {"deleted": True})

    @get("/coverage")
    async def coverage(
        self,
        state: State,
        caller: NamedDependency[Caller],
        document: FromQuery[uuid.UUID],
        unit: FromQuery[uuid.UUID | None] = None,
    ) -> list[ProgrammeCoverageRow]:
        """Which units of a subtree have built their programme for a document (D14); cells carry out their base's."""
        db: Database = state.db
        table = ACTION_PROGRAMME.table
        async with db.read() as conn:
            viewer = await unit_in_scope(conn, caller, unit)
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


def _target_in(t: Target) -> TargetIn:
    return TargetIn(t.indicator, t.measure, t.baseline, t.baseline_source, t.target_value, t.deadline, t.key)


def _task_in(t: Task) -> TaskIn:
    return TaskIn(t.title, t.lead_unit, list(t.supporting_units), t.deadline, t.key)


# Progress against targets (D15, D18).


class Progress(msgspec.Struct, frozen=True):
    id: uuid.UUID
    unit: uuid.UUID
    rev: int
    programme: uuid.UUID
    target: uuid.UUID
    year: int
    reported_on: date
    value: Decimal
    note: str


def progress_out(rec: ProgressRecord) -> Progress:
    return out(rec, Progress, value=plain(rec.value))


class ProgressCreate(msgspec.Struct, frozen=True):
    programme: uuid.UUID
    target: uuid.UUID
    year: int
    """The year the figure is for; at least one report per target per year (D18)."""
    value: Decimal
    reported_on: date
    note: str = ""


class ProgressController(Controller):
    path = "/programme-progress"
    tags = ["action programmes"]  # noqa: RUF012

    @get("/")
    async def list_progress(
        self,
        state: State,
        caller: NamedDependency[Caller],
        programme: FromQuery[uuid.UUID | None] = None,
        unit: FromQuery[uuid.UUID | None] = None,
        after: FromQuery[uuid.UUID | None] = None,
        limit: FromQuery[int] = 200,
    ) -> list[Progress]:
        """Progress reported in a unit's subtree."""
        db: Database = state.db
        table = PROGRAMME_PROGRESS.table
        async with db.read() as conn:
            viewer = await unit_in_scope(conn, caller, unit)
            stmt = up_select(PROGRAMME_PROGRESS, viewer)
            if programme is not None:
                stmt = stmt.where(table.c.programme == programme)
            rows = await records(conn, PROGRAMME_PROGRESS, page(stmt, PROGRAMME_PROGRESS, after, limit))
        return [progress_out(r) for r in rows]

    @post("/")
    async def report(self, state: State, caller: NamedDependency[Caller], data: JSONBody[ProgressCreate]) -> Progress:
        """Report a target's value for a year (D18); a second report for the same year replaces the first."""
        if not data.value.is_finite():
            raise invalid("value", "D18", "Giá trị phải là một số.", "The value must be a number.")
        db: Database = state.db
        table = PROGRAMME_PROGRESS.table
        async with db.write() as conn:
            try:
                prog: ActionProgrammeRecord = await get_visible(
                    conn, ACTION_PROGRAMME, caller.unit, data.programme, down=False, what=_PROGRAMME
                )
            except Refusal:
                raise invalid(
                    "programme",
                    "D18",
                    "Chương trình không có hoặc không thuộc đơn vị này: đơn vị xây dựng chương trình báo cáo tiến độ.",
                    "No such programme in this unit's subtree: the unit that built it reports its progress.",
                ) from None
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
            held = await records(
                conn,
                PROGRAMME_PROGRESS,
                select(*[table.c[n] for n in PROGRAMME_PROGRESS.columns]).where(
                    table.c.programme == prog.id,
                    table.c.target == target.key,
                    table.c.year == data.year,
                    table.c.deleted.is_(False),
                ),
            )
            changes = {"value": data.value, "reported_on": data.reported_on, "note": data.note.strip()}
            if held:
                return progress_out(await revise(conn, PROGRAMME_PROGRESS, caller, held[0], changes))
            rec = ProgressRecord(
                id=new_id(),
                owner=owner.id,
                audience=None,
                rev=1,
                deleted=False,
                programme=prog.id,
                target=target.key,
                year=data.year,
                reported_on=data.reported_on,
                value=data.value,
                note=data.note.strip(),
            )
            await save(conn, PROGRAMME_PROGRESS, rec)
        return progress_out(rec)
