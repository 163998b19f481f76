"""Surveys (D22) under `/api/v1`: the generic record routes for questionnaires, respondents and responses, plus the
figures per question at any level."""

import uuid

from litestar import Router, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from shared.api.resource import Api, Viewed, record_routes
from shared.surveys import service
from shared.surveys.schemas import SurveyAggregate


@get("/{questionnaire_id:uuid}/aggregate")
async def aggregate_responses(
    api: NamedDependency[Api],
    questionnaire_id: FromPath[uuid.UUID],
    unit: Viewed = None,
    group: FromQuery[str | None] = None,
) -> SurveyAggregate:
    """Figures per question over the responses entered in a unit's subtree (D22), optionally one group's."""
    return await api.viewing(unit, lambda conn, viewer: service.results(conn, viewer, questionnaire_id, group))


ROUTES: tuple[Router, ...] = (
    record_routes(
        "/questionnaires",
        service.QUESTIONNAIRES,
        removable=False,
        tag="surveys",
        filter_by="document",
        extra=[aggregate_responses],
    ),
    record_routes(
        "/survey-respondents", service.RESPONDENTS, removable=False, tag="surveys", filter_by="questionnaire"
    ),
    record_routes("/survey-responses", service.RESPONSES, removable=False, tag="surveys", filter_by="questionnaire"),
)
