"""The shapes of members at the boundary: API bodies and answers, also read by forms."""

from __future__ import annotations

import uuid

import msgspec


class Member(msgspec.Struct, frozen=True):
    id: uuid.UUID
    unit: uuid.UUID
    rev: int
    full_name: str
    birth_year: int
    obligation: str
    obligation_vi: str
    obliged: bool
    """D12: must write an essay; the others are encouraged, and writing nothing is no shortfall for them."""
    post: str
    rural_cell: bool
    note: str


class MemberCreate(msgspec.Struct, frozen=True):
    full_name: str
    birth_year: int
    obligation: str = "obliged"
    """obliged, exempt, health, over_60, retired or rural_no_post (D12)."""
    post: str = ""
    rural_cell: bool = False
    note: str = ""
    unit: uuid.UUID | None = None
    """The member's base unit or cell; the caller's unit by default."""


class MemberUpdate(msgspec.Struct, frozen=True):
    rev: int | msgspec.UnsetType = msgspec.UNSET
    full_name: str | msgspec.UnsetType = msgspec.UNSET
    birth_year: int | msgspec.UnsetType = msgspec.UNSET
    obligation: str | msgspec.UnsetType = msgspec.UNSET
    post: str | msgspec.UnsetType = msgspec.UNSET
    rural_cell: bool | msgspec.UnsetType = msgspec.UNSET
    note: str | msgspec.UnsetType = msgspec.UNSET


class ImportResult(msgspec.Struct, frozen=True):
    created: int
    updated: int
    unchanged: int
    dry_run: bool


LEAVE_REASONS_VI: dict[str, str] = {
    "transferred": "Chuyển sinh hoạt đảng đi đơn vị ngoài hệ thống",
    "deceased": "Từ trần",
    "removed": "Xóa tên, khai trừ hoặc xin ra khỏi Đảng",
    "other": "Lý do khác",
}
"""Why a member leaves the roster; the reason stays on the removed record (the name does not: personal data)."""
