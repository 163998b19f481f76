"""The JSON API both roles serve under `/api/v1`: the same routes on the hub and on a node, each with local accounts."""

from __future__ import annotations

from litestar import Router
from litestar.di import Provide

from shared.accounts.auth import AuthController, UserController, auth_guard, provide_caller
from shared.api.errors import EXCEPTION_HANDLERS
from shared.calendar.api import (
    CalendarController,
    OverrideController,
    PlanController,
    ProjectController,
    ReviewReportController,
)
from shared.consolidation.api import ConsolidationController
from shared.documents.api import DocumentController
from shared.drafts.api import (
    CommentController,
    CompletenessController,
    DecisionController,
    DraftController,
    MeetingController,
)
from shared.due.api import DueController
from shared.essays.api import EssayController, EssayTemplateController
from shared.members.api import MemberController
from shared.programmes import api as programmes
from shared.study import api as study
from shared.surveys import api as surveys
from shared.units.api import UnitController

CONTROLLERS = (
    AuthController,
    UserController,
    UnitController,
    DocumentController,
    CalendarController,
    OverrideController,
    PlanController,
    ProjectController,
    ReviewReportController,
    *study.ROUTES,
    MemberController,
    EssayTemplateController,
    EssayController,
    *programmes.ROUTES,
    *surveys.ROUTES,
    DraftController,
    MeetingController,
    CommentController,
    DecisionController,
    CompletenessController,
    DueController,
    ConsolidationController,
)


def api_router(*extra: object) -> Router:
    """Every API route behind the session guard; `extra` handlers (such as node health) join the same rules."""
    return Router(
        path="/api/v1",
        route_handlers=[*CONTROLLERS, *extra],  # type: ignore[list-item]
        guards=[auth_guard],
        dependencies={"caller": Provide(provide_caller, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,
        security=[{"BearerToken": []}],
    )
