"""The JSON API both roles serve under `/api/v1`: the same routes on the hub and on a node, each with local accounts."""

from __future__ import annotations

from litestar import Router
from litestar.di import Provide

from shared.accounts import api as accounts
from shared.accounts.http import auth_guard, provide_caller
from shared.api.errors import EXCEPTION_HANDLERS
from shared.api.resource import provide_api
from shared.audit.api import AuditController
from shared.calendar import api as calendar
from shared.consolidation.api import ConsolidationController
from shared.documents import api as documents
from shared.drafts import api as drafts
from shared.due import api as due
from shared.essays import api as essays
from shared.members import api as members
from shared.programmes import api as programmes
from shared.study import api as study
from shared.surveys import api as surveys
from shared.units.api import UnitController

CONTROLLERS = (
    AuditController,
    *calendar.ROUTES,
    *accounts.ROUTES,
    UnitController,
    *documents.ROUTES,
    *study.ROUTES,
    *members.ROUTES,
    *essays.ROUTES,
    *programmes.ROUTES,
    *surveys.ROUTES,
    *drafts.ROUTES,
    *due.ROUTES,
    ConsolidationController,
    AuditController,
)


def api_router(*extra: object) -> Router:
    """Every API route behind the session guard; `extra` handlers (such as node health) join the same rules."""
    return Router(
        path="/api/v1",
        route_handlers=[*CONTROLLERS, *extra],  # type: ignore[list-item]
        guards=[auth_guard],
        dependencies={
            "caller": Provide(provide_caller, sync_to_thread=False),
            "api": Provide(provide_api, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        security=[{"BearerToken": []}],
    )
