"""The routes of `shared/calendar/` under `/api/v1`: HTTP only, over `shared.calendar.service`."""

from __future__ import annotations

import uuid
from datetime import date

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from shared.api.resource import Api, Viewed, record_routes
from shared.calendar import plans, service
from shared.calendar.schemas import DocumentCalendar, MilestoneOut, Plan, PlanCreate, PlanUpdate, UnitReview


class CalendarController(Controller):
    path = "/calendar"
    tags = ["review calendar"]  # noqa: RUF012

    @get("/")
    async def calendar(
        self,
        api: NamedDependency[Api],
        unit: Viewed = None,
        today: FromQuery[date | None] = None,
        from_date: FromQuery[date | None] = None,
        to_date: FromQuery[date | None] = None,
    ) -> list[MilestoneOut]:
        """Every review of the documents a unit holds, in due order, with its status that day (D16, D17, D20)."""
        return await api.read(lambda conn: service.calendar(conn, api.caller, unit, today, from_date, to_date))

    @get("/documents/{doc_id:uuid}")
    async def document_calendar(
        self,
        api: NamedDependency[Api],
        doc_id: FromPath[uuid.UUID],
        unit: Viewed = None,
        today: FromQuery[date | None] = None,
    ) -> DocumentCalendar:
        """One document's reviews, yearly evaluations (D18) and the assumptions behind the dates (D16)."""
        return await api.read(lambda conn: service.document_calendar(conn, api.caller, doc_id, unit, today))

    @get("/term-plan")
    async def term_plan_preview(
        self, api: NamedDependency[Api], start: FromQuery[date], end: FromQuery[date], unit: Viewed = None
    ) -> list[MilestoneOut]:
        """Every review falling due in a congress term (D19): what the term plan must contain."""
        return await api.read(lambda conn: service.term_plan_preview(conn, api.caller, start, end, unit))

    @get("/year-plan")
    async def year_plan_preview(
        self, api: NamedDependency[Api], year: FromQuery[int], unit: Viewed = None
    ) -> list[MilestoneOut]:
        """Every review falling due in a year (D19: the year-end plan for next year)."""
        return await api.read(lambda conn: service.year_plan_preview(conn, api.caller, year, unit))

    @get("/bottom-up")
    async def bottom_up(
        self,
        api: NamedDependency[Api],
        document: FromQuery[uuid.UUID],
        kind: FromQuery[str] = "final",
        unit: Viewed = None,
    ) -> list[UnitReview]:
        """Units of a subtree in the order they review (deepest first, D21), each with its date and whether done."""
        return await api.read(lambda conn: service.bottom_up_steps(conn, api.caller, document, kind, unit))


class PlanController(Controller):
    path = "/review-plans"
    tags = ["review calendar"]  # noqa: RUF012

    @get("/")
    async def list_plans(self, api: NamedDependency[Api]) -> list[Plan]:
        """Plans of the caller's committee and of the levels above it (plans travel down)."""
        return await api.read(lambda conn: plans.list_plans(conn, api.caller))

    @get("/{plan_id:uuid}")
    async def get_plan(self, api: NamedDependency[Api], plan_id: FromPath[uuid.UUID]) -> Plan:
        return await api.read(lambda conn: plans.get_plan(conn, api.caller, plan_id))

    @post("/", opt={"role": "admin"})
    async def create(self, api: NamedDependency[Api], data: JSONBody[PlanCreate]) -> Plan:
        """Issue a plan of reviews (D19); term and year plans list every review due in their period."""
        return await api.write(lambda conn: plans.create_plan(conn, api.caller, data))

    @patch("/{plan_id:uuid}", opt={"role": "admin"})
    async def revise(self, api: NamedDependency[Api], plan_id: FromPath[uuid.UUID], data: JSONBody[PlanUpdate]) -> Plan:
        """Correct an issued plan (D19): number, date of issue, period or added reviews; its kind and issuing
        committee are fixed. Term and year plans list again every review due in their period."""
        return await api.write(lambda conn: plans.revise_plan(conn, api.caller, plan_id, data))


ROUTES = (
    CalendarController,
    PlanController,
    record_routes(
        "/review-overrides",
        plans.OVERRIDES,
        tag="review calendar",
        filter_by="document",
        write_opt={"role": "admin"},
        docs={
            "create": "Move a review earlier or later, with its reason and the directing document (D17); a "
            "committee decision.",
            "delete": "Withdraw an override: the review falls back on the date the rule gives.",
        },
    ),
    record_routes(
        "/review-projects",
        plans.PROJECTS,
        removable=False,
        tag="review calendar",
        docs={
            "list": "Review projects proposed in the caller's subtree.",
            "create": "The lead agency proposes a review project (đề án) to its committee (D21).",
            "revise": "Rename a project or record the committee's approval.",
        },
    ),
    record_routes(
        "/review-reports",
        plans.HELD_REVIEWS,
        tag="review calendar",
        filter_by="document",
        docs={
            "list": "Reviews held in the caller's subtree.",
            "create": "Record that a unit held its review: the milestone is done for it (D16); refused while units "
            "below it have not held theirs, unless a reason is given (D21).",
            "delete": "Withdraw a review recorded by mistake.",
        },
    ),
)
