"""Surveys (D22) under `/api/v1`: the generic record routes for questionnaires, respondents and responses, plus the
figures per question at any level."""

import uuid

from litestar import Router, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from shared.api.resource import record_routes
from shared.core.scope import Caller, unit_in_scope
from shared.db.engine import Database
from shared.surveys import service
from shared.surveys.schemas import (
    Questionnaire,
    QuestionnaireCreate,
    Respondent,
    RespondentCreate,
    SurveyAggregate,
    SurveyResponse,
    SurveyResponseCreate,
)


@get("/{questionnaire_id:uuid}/aggregate")
async def aggregate_responses(
    state: State,
    caller: NamedDependency[Caller],
    questionnaire_id: FromPath[uuid.UUID],
    unit: FromQuery[uuid.UUID | None] = None,
    group: FromQuery[str | None] = None,
) -> SurveyAggregate:
    """Figures per question over the responses entered in a unit's subtree (D22), optionally one group's."""
    db: Database = state.db
    async with db.read() as conn:
        return await service.results(conn, await unit_in_scope(conn, caller, unit), questionnaire_id, group)


ROUTES: tuple[Router, ...] = (
    record_routes(
        "/questionnaires",
        service.QUESTIONNAIRES,
        read=Questionnaire,
        create=QuestionnaireCreate,
        removable=False,
        tag="surveys",
        filter_by="document",
        extra=[aggregate_responses],
    ),
    record_routes(
        "/survey-respondents",
        service.RESPONDENTS,
        read=Respondent,
        create=RespondentCreate,
        removable=False,
        tag="surveys",
        filter_by="questionnaire",
    ),
    record_routes(
        "/survey-responses",
        service.RESPONSES,
        read=SurveyResponse,
        create=SurveyResponseCreate,
        removable=False,
        tag="surveys",
        filter_by="questionnaire",
    ),
)
