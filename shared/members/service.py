"""The members roster of a base unit (D12): personal data, kept at the unit and its parent only; .xlsx import.

The rules, queries and workflow; each function runs in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.audit.actor import as_import
from shared.audit.hook import apply_local
from shared.core.errors import Refusal, RowProblem, invalid
from shared.core.scope import (
    Caller,
    UnitInfo,
    check_rev,
    get_visible,
    out,
    records,
    revise,
    up_select,
    writable_owner,
)
from shared.core.service import RecordKind, RecordService, Shapes, new_record
from shared.core.xlsx import read_rows, refuse, text
from shared.domain.formatting import VIETNAM_TIME
from shared.domain.obligations import (
    OBLIGATION_LABELS_EN,
    OBLIGATION_LABELS_VI,
    OBLIGATIONS,
    ObligationError,
    check_obligation,
    is_obliged,
)
from shared.members.counts import refresh_roster_count
from shared.members.records import MEMBER, MemberRecord
from shared.members.schemas import LEAVE_REASONS_VI, ImportResult, Member, MemberCreate, MemberUpdate

_MEMBER = ("đảng viên", "member")


def member_out(rec: MemberRecord) -> Member:
    return out(
        rec,
        Member,
        obligation_vi=OBLIGATION_LABELS_VI.get(rec.obligation, rec.obligation),
        obliged=is_obliged(rec.obligation),
    )


def check_member(rec: MemberRecord, year: int) -> None:
    if not rec.full_name.strip():
        raise invalid("full_name", "D12", "Thiếu họ và tên đảng viên.", "The member's name is empty.")
    try:
        check_obligation(rec.obligation, birth_year=rec.birth_year, year=year, post=rec.post, rural_cell=rec.rural_cell)
    except ObligationError as exc:
        field = "birth_year" if exc.code == "member.birth_year" else "obligation"
        raise Refusal.from_domain(exc, field=field, rule="D12") from None


def obligation_from(cell: str) -> str | None:
    """A category as offices write it: the code, or the Vietnamese or English label, or empty for obliged."""
    from shared.core.xlsx import _key

    if not cell.strip():
        return "obliged"
    wanted = _key(cell)
    for code in OBLIGATIONS:
        if wanted in (_key(code), _key(OBLIGATION_LABELS_VI[code]), _key(OBLIGATION_LABELS_EN[code])):
            return code
    return None


def _bool_cell(value: object) -> bool:
    return text(value).casefold() in ("x", "1", "có", "co", "yes", "true", "đúng")


MEMBER_COLUMNS = {
    "full_name": ("Họ và tên", "Họ tên", "full_name"),
    "birth_year": ("Năm sinh", "birth_year"),
    "obligation": ("Diện?", "Diện đối tượng", "Đối tượng", "obligation"),
    "post": ("Chức vụ?", "post"),
    "rural_cell": ("Chi bộ nông thôn?", "rural_cell"),
    "note": ("Ghi chú?", "note"),
}


async def roster_changed(conn: AsyncConnection, owner: uuid.UUID) -> None:
    """Keep the unit's published member counts current in the same transaction as the roster write (D12, D26)."""
    await refresh_roster_count(conn, owner, datetime.now(VIETNAM_TIME).date())


async def roster(conn: AsyncConnection, unit: UnitInfo) -> list[MemberRecord]:
    """Live members of a unit's subtree held here."""
    stmt = up_select(MEMBER, unit).where(MEMBER.table.c.deleted.is_(False))
    return await records(conn, MEMBER, stmt)


async def save_many(conn: AsyncConnection, recs: list[MemberRecord]) -> None:
    if recs:
        await apply_local(conn, MEMBER, recs)


async def import_roster_file(
    conn: AsyncConnection, caller: Caller, content: bytes, unit: uuid.UUID | None, dry_run: bool
) -> ImportResult:
    """A unit's roster from .xlsx, all or nothing; a row matching a member held (name and birth year) updates it."""
    as_import()  # D27: entries of this write say it came from a file
    year = date.today().year
    owner = await writable_owner(conn, caller, unit or caller.unit.id)
    held = {(r.full_name.casefold(), r.birth_year): r for r in await roster(conn, owner) if r.owner == owner.id}
    problems: list[RowProblem] = []
    seen: dict[tuple[str, int], int] = {}
    created: list[MemberRecord] = []
    updated: list[MemberRecord] = []
    unchanged = 0
    for number, row in read_rows(content, MEMBER_COLUMNS):
        name = " ".join(text(row.get("full_name")).split())
        year_text = text(row.get("birth_year"))
        obligation = obligation_from(text(row.get("obligation")))
        row_problems = len(problems)
        if not name:
            problems.append(RowProblem(number, "full_name", "Thiếu họ và tên.", "The name is empty."))
        if not year_text.isdigit():
            problems.append(
                RowProblem(number, "birth_year", f"Năm sinh «{year_text}» không hợp lệ.", "Invalid birth year.")
            )
        if obligation is None:
            problems.append(
                RowProblem(
                    number,
                    "obligation",
                    f"Diện «{text(row.get('obligation'))}» không có trong danh mục (D12).",
                    "Unknown category (D12).",
                )
            )
        if len(problems) > row_problems or obligation is None:
            continue
        rec = new_record(
            MemberRecord,
            owner.id,
            full_name=name,
            birth_year=int(year_text),
            obligation=obligation,
            post=text(row.get("post")),
            rural_cell=_bool_cell(row.get("rural_cell")),
            note=text(row.get("note")),
        )
        try:
            check_member(rec, year)
        except Refusal as exc:
            p = exc.problem
            problems.append(RowProblem(number, p.field or "", p.message, p.message_en))
            continue
        key = (name.casefold(), rec.birth_year)
        if key in seen:
            problems.append(
                RowProblem(
                    number,
                    "full_name",
                    f"Trùng với dòng {seen[key]} (cùng họ tên và năm sinh).",
                    f"Duplicates row {seen[key]} (same name and birth year).",
                )
            )
            continue
        seen[key] = number
        old = held.get(key)
        if old is None:
            created.append(rec)
            continue
        fields = ("obligation", "post", "rural_cell", "note")
        if all(getattr(old, f) == getattr(rec, f) for f in fields):
            unchanged += 1
        else:
            updated.append(msgspec.structs.replace(old, rev=old.rev + 1, **{f: getattr(rec, f) for f in fields}))
    if problems:
        raise refuse(problems)
    if not dry_run:
        await save_many(conn, created + updated)
        await roster_changed(conn, owner.id)
    return ImportResult(len(created), len(updated), unchanged, dry_run)


async def _check(conn: AsyncConnection, owner: UnitInfo, rec: MemberRecord) -> MemberRecord:
    tidy = msgspec.structs.replace(
        rec, full_name=" ".join(rec.full_name.split()), post=rec.post.strip(), note=rec.note.strip()
    )
    check_member(tidy, date.today().year)
    return tidy


class Members(RecordService[MemberRecord]):
    """The roster: every write keeps the unit's published member counts current in its transaction (D12, D26)."""

    async def written(self, conn: AsyncConnection, rec: MemberRecord) -> None:
        await roster_changed(conn, rec.owner)


MEMBERS = Members(
    RecordKind(MEMBER, _MEMBER, _check, cleared_on_delete=("full_name", "note")),
    Shapes(Member, MemberCreate, MemberUpdate, member_out),
)
"""A tombstone clears the name and note: a member taken off the roster (moved away, deceased) leaves no name."""


async def list_members(
    conn: AsyncConnection,
    caller: Caller,
    unit: uuid.UUID | None = None,
    after: uuid.UUID | None = None,
    limit: int = 200,
) -> list[Member]:
    """Members of a unit's subtree held here (a unit and its parent hold a roster; no level above does)."""
    return [member_out(r) for r in await MEMBERS.list_page(conn, caller, unit, after=after, limit=limit)]


async def create_member(conn: AsyncConnection, caller: Caller, data: MemberCreate) -> Member:
    return member_out(await MEMBERS.create(conn, caller, data))


async def get_member(conn: AsyncConnection, caller: Caller, member_id: uuid.UUID) -> Member:
    return member_out(await MEMBERS.get(conn, caller, member_id))


async def edit_member(conn: AsyncConnection, caller: Caller, member_id: uuid.UUID, data: MemberUpdate) -> Member:
    return member_out(await MEMBERS.revise(conn, caller, member_id, data))


async def move_member(
    conn: AsyncConnection, caller: Caller, member_id: uuid.UUID, to_unit: uuid.UUID, rev: int | None = None
) -> Member:
    """Move a member to another unit of the caller's subtree written here; the same record, so their essay
    history follows them, and both units' counts change in this transaction (D12, D26)."""
    held: MemberRecord = await get_visible(conn, MEMBER, caller.unit, member_id, down=False, what=_MEMBER)
    await writable_owner(conn, caller, held.owner)
    check_rev(rev, held)
    target = await writable_owner(conn, caller, to_unit)
    if target.id == held.owner:
        raise invalid("unit", "D12", "Đảng viên đã ở đơn vị này; hãy chọn đơn vị khác.", "Already in this unit.")
    new = await revise(conn, MEMBER, caller, held, {"owner": target.id})
    await roster_changed(conn, held.owner)
    await roster_changed(conn, target.id)
    return member_out(new)


async def leave_member(
    conn: AsyncConnection, caller: Caller, member_id: uuid.UUID, reason: str, rev: int | None = None
) -> None:
    """Take a member off the roster for a reason of `LEAVE_REASONS_VI`: the name is cleared, the reason kept."""
    held: MemberRecord = await get_visible(conn, MEMBER, caller.unit, member_id, down=False, what=_MEMBER)
    check_rev(rev, held)
    if reason not in LEAVE_REASONS_VI:
        raise invalid("reason", "D12", "Chọn lý do rời danh sách.", "Choose why the member leaves.")
    note = f"Rời danh sách: {LEAVE_REASONS_VI[reason]}"
    await revise(conn, MEMBER, caller, held, {"deleted": True, "full_name": "", "note": note})
    await roster_changed(conn, held.owner)
