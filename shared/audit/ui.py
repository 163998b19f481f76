"""Nhật ký thao tác: the audit trail of a unit's subtree for its secretary (D27), filtered, paged, exported."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery

from shared.accounts.records import ROLE_LABELS_VI
from shared.audit.records import AUDIT_TYPES
from shared.audit.service import ACTIONS_VI, CLOCK_NOTE_VI, EXPORT_ROWS, VIA_VI, AuditFilter, entries_in
from shared.audit.sign_ins import SignInEntry, sign_ins
from shared.domain.errors import DateError
from shared.domain.formatting import format_date, format_moment, parse_date
from shared.ui.export import xlsx_response
from shared.ui.web import Frame, Page, render

PAGE_SIZE = 200
SIGN_INS_SHOWN = 500


def _day(text: str | None, errors: dict[str, str], name: str) -> date | None:
    if not text or not text.strip():
        return None
    try:
        return parse_date(text)
    except DateError as exc:
        errors[name] = exc.message_vi
        return None


@get("/nhat-ky", opt={"role": "admin"})
async def audit_page(
    request: Request[Any, Any, State],
    frame: Frame,
    username: FromQuery[str | None] = None,
    record_type: FromQuery[str | None] = None,
    since: FromQuery[str | None] = None,
    until: FromQuery[str | None] = None,
    after: FromQuery[uuid.UUID | None] = None,
) -> Response[Any]:
    """Who wrote what, when (the writing machine's clock) and from where, newest first (`GET /api/v1/audit`)."""
    errors: dict[str, str] = {}
    first, last = _day(since, errors, "since"), _day(until, errors, "until")
    where = AuditFilter((username or "").strip() or None, record_type or None, None, first, last)
    async with request.app.state.db.read() as conn:
        entries, next_after = await entries_in(conn, frame.viewer, where, after, PAGE_SIZE)
    query = {
        k: v
        for k, v in (
            ("unit", str(frame.viewer.id) if frame.other_unit else ""),
            ("username", where.username or ""),
            ("record_type", where.record_type or ""),
        )
        if v
    }
    api_query = {
        **query,
        **({"since": first.isoformat()} if first else {}),
        **({"until": last.isoformat()} if last else {}),
    }
    page_query = {
        **query,
        **({"since": format_date(first)} if first else {}),
        **({"until": format_date(last)} if last else {}),
    }
    return render(
        "audit.html",
        frame,
        status_code=422 if errors else 200,
        entries=entries,
        errors=errors,
        values={"username": username or "", "record_type": record_type or "", "since": since, "until": until},
        record_types=[rt.name for rt in request.app.state.registry if rt not in AUDIT_TYPES],
        next_query=urlencode({**page_query, "after": str(next_after)}) if next_after else None,
        export_query=urlencode(api_query),
        clock_note=CLOCK_NOTE_VI,
        actions_vi=ACTIONS_VI,
        via_vi=VIA_VI,
        roles_vi=ROLE_LABELS_VI,
    )


@dataclass(frozen=True, slots=True)
class _SignInSearch:
    """The sign-in filters as typed (`?username=&since=&until=`), read once for the page and its .xlsx."""

    frame: Page
    values: dict[str, str]
    errors: dict[str, str]
    where: AuditFilter

    async def attempts(self, request: Request[Any, Any, State], limit: int) -> tuple[list[SignInEntry], bool]:
        """The attempts for the accounts of the viewed unit's subtree that match, and whether more matched."""
        async with request.app.state.db.read() as conn:
            return await sign_ins(conn, self.frame.viewer, self.where, limit)


async def _search(
    frame: Frame,
    username: FromQuery[str | None] = None,
    since: FromQuery[str | None] = None,
    until: FromQuery[str | None] = None,
) -> _SignInSearch:
    values = {"username": username or "", "since": since or "", "until": until or ""}
    errors: dict[str, str] = {}
    first, last = _day(values["since"], errors, "since"), _day(values["until"], errors, "until")
    return _SignInSearch(
        frame, values, errors, AuditFilter(values["username"].strip() or None, None, None, first, last)
    )


SEARCH = {"search": Provide(_search)}


@get("/nhat-ky/dang-nhap", opt={"role": "admin"}, dependencies=SEARCH)
async def sign_ins_page(request: Request[Any, Any, State], search: NamedDependency[_SignInSearch]) -> Response[Any]:
    """Sign-in attempts for the accounts of the subtree on this instance, newest first, with their outcome."""
    frame, values, errors = search.frame, search.values, search.errors
    attempts, more = await search.attempts(request, SIGN_INS_SHOWN)
    given = {"unit": str(frame.viewer.id) if frame.other_unit else "", **values}
    query = urlencode({k: v for k, v in given.items() if v})
    return render(
        "audit_sign_ins.html",
        frame,
        status_code=422 if errors else 200,
        attempts=attempts,
        more=more,
        errors=errors,
        values=values,
        query=query,
        clock_note=CLOCK_NOTE_VI,
    )


@get("/nhat-ky/dang-nhap.xlsx", opt={"role": "admin"}, dependencies=SEARCH)
async def sign_ins_xlsx(request: Request[Any, Any, State], search: NamedDependency[_SignInSearch]) -> Response[Any]:
    """The same attempts as .xlsx (up to the export's row limit)."""
    attempts, _ = await search.attempts(request, EXPORT_ROWS)
    header = ("Thời điểm (giờ của máy này)", "Tài khoản", "Đơn vị", "Địa chỉ", "Kết quả")
    rows = [(format_moment(a.at), a.username, a.unit_code, a.address, a.outcome_vi) for a in attempts]
    return xlsx_response("dang-nhap.xlsx", "Đăng nhập", header, rows)


PAGES = (audit_page, sign_ins_page, sign_ins_xlsx)
