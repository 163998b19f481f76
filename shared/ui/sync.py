"""Đồng bộ: this instance's sync health (its upstreams, rows waiting, refused records) and its child nodes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.response import Redirect
from sqlalchemy import select

from shared.core.scope import Caller, unit_info, units_info
from shared.db.engine import Database
from shared.sync import store
from shared.sync.agent import sync_once, upstreams
from shared.sync.parent import Parent
from shared.sync.tables import Identity, Rejection
from shared.sync.transport import SyncFailed
from shared.ui.web import Page, render


@dataclass(frozen=True, slots=True)
class UpstreamState:
    url: str
    waiting: int
    """Local rows not yet acknowledged by this parent."""
    last_push: datetime | None
    last_pull: datetime | None
    last_attempt: datetime | None
    last_error: str | None
    failures: int


@dataclass(frozen=True, slots=True)
class SyncHealth:
    role: str
    """`hub` or `node`."""
    unit_name: str
    head: int
    upstreams: list[UpstreamState]
    refused: list[Any]
    children: list[dict[str, Any]] | None
    """Child nodes in the caller's subtree; None when the caller may not see them (admins only, as the API)."""
    children_total: int = 0
    problems: list[str] = field(default_factory=list)


async def sync_health(db: Database, parent: Parent, caller: Caller) -> SyncHealth:
    """What `nqsync node status` and `nqsync {server,node} nodes` show, for the caller's subtree (D4)."""
    async with db.read() as conn:
        identity = (await conn.execute(select(Identity.role, Identity.unit))).first()
        head = await store.head(conn)
        refused = list((await conn.execute(select(Rejection).order_by(Rejection.at))).all())
        unit = None if identity is None or identity.unit is None else await unit_info(conn, identity.unit)
    ups = [
        UpstreamState(
            u.url,
            max(head - u.push_cursor, 0),
            u.last_push,
            u.last_pull,
            u.last_attempt,
            u.last_error,
            u.failures,
        )
        for u in await upstreams(db)
    ]
    nodes = await parent.nodes()
    # D4: a unit's staff see the nodes of their own subtree only.
    async with db.read() as conn:
        units = await units_info(conn, list({uuid.UUID(n["unit"]) for n in nodes}))
    covered = [n for n in nodes if (u := units.get(uuid.UUID(n["unit"]))) is not None and caller.unit.covers(u)]
    children = covered if caller.at_least("admin") else None
    role = identity.role if identity is not None else "hub"
    problems = []
    if refused:
        problems.append(f"{len(refused)} bản ghi bị cấp trên từ chối: cần sửa rồi đồng bộ lại.")
    problems += [f"Lần đồng bộ gần nhất với {u.url} bị lỗi: {u.last_error}" for u in ups if u.last_error]
    if role == "node" and not ups:
        problems.append("Máy này chưa đăng ký với cấp trên (chạy `nqsync node init`).")
    return SyncHealth(
        role=role,
        unit_name=unit.name if unit is not None else "",
        head=head,
        upstreams=ups,
        refused=refused,
        children=children,
        children_total=len(covered),
        problems=problems,
    )


@get("/dong-bo")
async def sync_page(request: Request[Any, Any, State], caller: NamedDependency[Caller]) -> Response[Any]:
    done = None
    if "gui" in request.query_params:
        # The figures of the round "Đồng bộ ngay" just ran (the redirect keeps a reload from running another);
        # read as numbers, so a crafted link cannot put words on the page.
        params = request.query_params
        done = {k: int(v) if (v := params.get(k, "0")).isdigit() else 0 for k in ("gui", "nhan", "tuchoi")}
    return await _sync_page(request, caller, done=done)


async def _sync_page(
    request: Request[Any, Any, State], caller: Caller, *, done: dict[str, int] | None = None, failed: str = ""
) -> Response[Any]:
    state = request.app.state
    health = await sync_health(state.db, state.parent, caller)
    page = Page(caller, caller.unit, "/dong-bo")
    return render("sync.html", page, health=health, done=done, failed=failed)


@post("/dong-bo/ngay", status_code=303)
async def sync_now(request: Request[Any, Any, State], caller: NamedDependency[Caller]) -> Response[Any]:
    """Đồng bộ ngay: one round with the parent now, instead of waiting for the loop's next one."""
    state = request.app.state
    try:
        _, report = await sync_once(state.db, state.registry, state.settings.sync)
    except SyncFailed as exc:
        return await _sync_page(request, caller, failed=exc.message_vi)
    query = f"gui={report.pushed}&nhan={report.applied}&tuchoi={len(report.refused)}"
    return Redirect(f"/dong-bo?{query}", status_code=303)


PAGES = (sync_page, sync_now)
