"""The web application both roles serve: the sync endpoints for children, the JSON API, health and sync status.

`create_app` opens nothing itself: the database and the background flush start in the lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from litestar import Litestar, get
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ControllerRouterHandler

from shared.api.router import api_router
from shared.catalogue import build_registry
from shared.core.errors import Problem
from shared.db.engine import Database
from shared.serving import security_headers
from shared.settings import Settings
from shared.sync.http import sync_router
from shared.sync.parent import Parent
from shared.ui import UIPlugin

ACTIVITY_FLUSH_SECONDS = 5.0


@get("/health", sync_to_thread=False)
def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@get("/sync/nodes", opt={"role": "admin"}, tags=["sync"])
async def child_nodes(state: State) -> list[dict[str, Any]]:
    """Per child node: last contact, last push and pull, rows pending, refused records, lag, protocol."""
    parent: Parent = state.parent
    return await parent.nodes()


def create_app(settings: Settings, *, role: str, route_handlers: Sequence[ControllerRouterHandler] = ()) -> Litestar:
    registry = build_registry()

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        db = Database(settings.database.url, echo=settings.database.echo)
        parent = Parent(db, registry, settings.sync)
        app.state.update(db=db, parent=parent, settings=settings, registry=registry, role=role)

        async def flush_forever() -> None:
            while True:
                await asyncio.sleep(ACTIVITY_FLUSH_SECONDS)
                with contextlib.suppress(Exception):
                    await parent.flush_activity()

        flusher = asyncio.create_task(flush_forever())
        try:
            yield
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            await parent.flush_activity()
            await db.dispose()

    app = Litestar(
        route_handlers=[health, api_router(child_nodes), sync_router(), *route_handlers],
        lifespan=[lifespan],
        plugins=[UIPlugin(settings)],
        before_send=[security_headers(settings.http)],
        request_max_body_size=settings.http.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="nqsync",
            version="1",
            description="Học tập, quán triệt, sơ kết, tổng kết — the same API on the provincial hub and on every node.",
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(
                        type="http", scheme="bearer", description="Token from POST /api/v1/auth/login"
                    )
                }
            ),
        ),
    )
    _document_problems(app)
    return app


PROBLEM_STATUSES = {
    400: "The request does not match the schema.",
    401: "Not signed in, or the session expired or idled out.",
    403: "The role or the unit's scope does not allow it, or the password must be changed first.",
    404: "No such record in the caller's scope.",
    409: "Conflicts with what is stored.",
    413: "Too large (body, upload or rows).",
    422: "Refused by a domain rule; `field` and `rule` say where.",
    429: "Too many failed sign-ins: wait the seconds given.",
}


def _document_problems(app: Litestar) -> None:
    """Every API route answers its refusals as a `Problem`; say so in the OpenAPI schema instead of Litestar's
    default error shape, so clients (and the fuzzer) can rely on it."""
    for route in app.routes:
        if not route.path.startswith("/api/"):
            continue
        for handler in getattr(route, "route_handlers", ()):
            documented = {status: ResponseSpec(Problem, description=text) for status, text in PROBLEM_STATUSES.items()}
            handler.responses = {**documented, **(handler.responses or {})}
