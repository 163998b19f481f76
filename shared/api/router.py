"""The JSON API both roles serve under `/api/v1`: the same routes on the hub and on a node, each with local accounts."""

from __future__ import annotations

from litestar import Router
from litestar.di import Provide

from shared.api.auth import AuthController, UserController, auth_guard, provide_caller
from shared.api.calendar import (
    CalendarController,
    OverrideController,
    PlanController,
    ProjectController,
    ReviewReportController,
)
from shared.api.consolidations import ConsolidationController
from shared.api.documents import DocumentController
from shared.api.drafts import (
    CommentController,
    CompletenessController,
    DecisionController,
    DraftController,
    MeetingController,
)
from shared.api.due import DueController
from shared.api.errors import EXCEPTION_HANDLERS
from shared.api.essays import EssayController, EssayTemplateController
from shared.api.members import MemberController
from shared.api.programmes import ProgrammeController, ProgressController
from shared.api.study import PropagandaController, StudySessionController
from shared.api.surveys import QuestionnaireController, RespondentController, SurveyResponseController
from shared.api.units import UnitController
from shared.audit.api import AuditController

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
    StudySessionController,
    PropagandaController,
    MemberController,
    EssayTemplateController,
    EssayController,
    ProgrammeController,
    ProgressController,
    QuestionnaireController,
    RespondentController,
    SurveyResponseController,
    DraftController,
    MeetingController,
    CommentController,
    DecisionController,
    CompletenessController,
    DueController,
    ConsolidationController,
    AuditController,
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
