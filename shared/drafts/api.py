"""Review report drafts (D23–D25b) under `/api/v1`: the workflow's verbs over `shared.drafts.service`."""

from __future__ import annotations

import uuid
from datetime import date

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from shared.api.resource import Api, Viewed
from shared.drafts import feedback, service
from shared.drafts.facts import completeness_of, review_kind
from shared.drafts.schemas import (
    Approve,
    Comment,
    CommentCreate,
    Completeness,
    Decision,
    DecisionCreate,
    Draft,
    DraftCreate,
    Issue,
    Meeting,
    MeetingCreate,
    Submit,
    VersionCreate,
)


class DraftController(Controller):
    path = "/report-drafts"
    tags = ["review reports"]  # noqa: RUF012

    @get("/")
    async def list_drafts(
        self,
        api: NamedDependency[Api],
        document: FromQuery[uuid.UUID | None] = None,
        kind: FromQuery[str | None] = None,
        unit: Viewed = None,
        after: FromQuery[uuid.UUID | None] = None,
        limit: FromQuery[int] = 100,
    ) -> list[Draft]:
        """Drafts of a unit's subtree and of the levels above it (sent down for comments, D23)."""
        return await api.read(
            lambda conn: service.list_drafts(
                conn, api.caller, document=document, kind=kind, unit=unit, after=after, limit=limit
            ),
        )

    @post("/")
    async def create(self, api: NamedDependency[Api], data: JSONBody[DraftCreate]) -> Draft:
        """Start a unit's review report with its first version (D24)."""
        return await api.write(lambda conn: service.create_draft(conn, api.caller, data))

    @get("/{draft_id:uuid}")
    async def get_draft(
        self, api: NamedDependency[Api], draft_id: FromPath[uuid.UUID], today: FromQuery[date | None] = None
    ) -> Draft:
        """A draft with every version (D24), its due date, issuance deadline and late flags (D25, D25a)."""
        return await api.read(lambda conn: service.get_draft(conn, api.caller, draft_id, today))

    @post("/{draft_id:uuid}/versions", status_code=200)
    async def add_version(
        self, api: NamedDependency[Api], draft_id: FromPath[uuid.UUID], data: JSONBody[VersionCreate]
    ) -> Draft:
        """A new version: comments taken in (D24), or a correction asked for by the level above (D25b)."""
        return await api.write(lambda conn: service.add_version(conn, api.caller, draft_id, data))

    @post("/{draft_id:uuid}/submit", status_code=200)
    async def submit(self, api: NamedDependency[Api], draft_id: FromPath[uuid.UUID], data: JSONBody[Submit]) -> Draft:
        """The lead agency submits the latest version to its committee (D24)."""
        return await api.write(lambda conn: service.submit_draft(conn, api.caller, draft_id, data))

    @post("/{draft_id:uuid}/approve", status_code=200, opt={"role": "admin"})
    async def approve(self, api: NamedDependency[Api], draft_id: FromPath[uuid.UUID], data: JSONBody[Approve]) -> Draft:
        """The committee approves its report (D24): only once its lower units' reports are in, or waived (D25b)."""
        return await api.write(lambda conn: service.approve_draft(conn, api.caller, draft_id, data))

    @post("/{draft_id:uuid}/issue", status_code=200)
    async def issue(self, api: NamedDependency[Api], draft_id: FromPath[uuid.UUID], data: JSONBody[Issue]) -> Draft:
        """Send the finished report up (D25: within 10 days of approval, else flagged late); after a return, send
        the corrected, later version (D25b)."""
        return await api.write(lambda conn: service.issue_draft(conn, api.caller, draft_id, data))


class MeetingController(Controller):
    path = "/report-meetings"
    tags = ["review reports"]  # noqa: RUF012

    @get("/")
    async def list_meetings(self, api: NamedDependency[Api], draft: FromQuery[uuid.UUID]) -> list[Meeting]:
        """Workshops and conferences held on a draft."""
        return await api.read(lambda conn: feedback.list_meetings(conn, api.caller, draft))

    @post("/")
    async def create(self, api: NamedDependency[Api], data: JSONBody[MeetingCreate]) -> Meeting:
        """The draft's unit records a workshop or conference held to collect comments, with its participants (D23)."""
        return await api.write(lambda conn: feedback.add_meeting(conn, api.caller, data))


class CommentController(Controller):
    path = "/report-comments"
    tags = ["review reports"]  # noqa: RUF012

    @get("/")
    async def list_comments(
        self, api: NamedDependency[Api], draft: FromQuery[uuid.UUID], version: FromQuery[int | None] = None
    ) -> list[Comment]:
        """Comments on a draft that the caller's unit may see: its own subtree's and those addressed to it (D4)."""
        return await api.read(lambda conn: feedback.list_comments(conn, api.caller, draft, version))

    @post("/")
    async def create(self, api: NamedDependency[Api], data: JSONBody[CommentCreate]) -> Comment:
        """Comment on a section of a draft as the caller's unit (D23); it reaches the draft's unit by sync."""
        return await api.write(lambda conn: feedback.add_comment(conn, api.caller, data))


class DecisionController(Controller):
    path = "/report-decisions"
    tags = ["review reports"]  # noqa: RUF012

    @get("/")
    async def list_decisions(
        self,
        api: NamedDependency[Api],
        document: FromQuery[uuid.UUID | None] = None,
        subject_unit: FromQuery[uuid.UUID | None] = None,
    ) -> list[Decision]:
        """Decisions made in the caller's subtree, or about its subtree by the levels above."""
        return await api.read(lambda conn: feedback.list_decisions(conn, api.caller, document, subject_unit))

    @post("/", opt={"role": "admin"})
    async def decide(self, api: NamedDependency[Api], data: JSONBody[DecisionCreate]) -> Decision:
        """A higher level accepts a lower unit's report, returns it for correction, or waives it (D25b).

        The lower unit's draft is never edited: this decision is the higher level's own record, addressed to it.
        """
        return await api.write(lambda conn: feedback.decide(conn, api.caller, data))


class CompletenessController(Controller):
    path = "/reports"
    tags = ["review reports"]  # noqa: RUF012

    @get("/completeness")
    async def completeness(
        self,
        api: NamedDependency[Api],
        document: FromQuery[uuid.UUID],
        kind: FromQuery[str] = "final",
        unit: Viewed = None,
        today: FromQuery[date | None] = None,
    ) -> Completeness:
        """Reports expected of a subtree for one review: how many arrived, how many on time, per level and per unit
        (D25b), each against its cascaded due date (D25a)."""
        review_kind(kind)
        return await api.viewing(
            unit, lambda conn, viewer: completeness_of(conn, viewer, document, kind, today or date.today())
        )


ROUTES = (DraftController, MeetingController, CommentController, DecisionController, CompletenessController)
