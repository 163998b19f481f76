"""The registry of every record type this program syncs, in apply order (units first)."""

from shared.audit.records import AUDIT_TYPES
from shared.records import users as _users  # noqa: F401  (local tables: registered so migrations see them)
from shared.records.documents import DOCUMENT
from shared.records.drafts import REPORT_COMMENT, REPORT_DECISION, REPORT_DRAFT, REPORT_MEETING
from shared.records.essays import ESSAY_GRADE
from shared.records.members import MEMBER
from shared.records.programmes import ACTION_PROGRAMME, PROGRAMME_PROGRESS
from shared.records.reviews import REVIEW_OVERRIDE, REVIEW_PLAN, REVIEW_PROJECT, REVIEW_REPORT
from shared.records.rosters import ROSTER_COUNT
from shared.records.study import PROPAGANDA, STUDY_SESSION
from shared.records.surveys import QUESTIONNAIRE, SURVEY_RESPONDENT, SURVEY_RESPONSE
from shared.records.templates import ESSAY_TEMPLATE
from shared.records.units import UNIT
from shared.sync.registry import Registry


def build_registry() -> Registry:
    return Registry(
        UNIT,
        DOCUMENT,
        MEMBER,
        ESSAY_GRADE,
        REVIEW_OVERRIDE,
        REVIEW_PLAN,
        REVIEW_PROJECT,
        REVIEW_REPORT,
        STUDY_SESSION,
        PROPAGANDA,
        ESSAY_TEMPLATE,
        # Domain workflows II, in apply order: what a record refers to arrives before it.
        ACTION_PROGRAMME,
        PROGRAMME_PROGRESS,
        QUESTIONNAIRE,
        SURVEY_RESPONDENT,
        SURVEY_RESPONSE,
        REPORT_DRAFT,
        REPORT_MEETING,
        REPORT_COMMENT,
        REPORT_DECISION,
        ROSTER_COUNT,
        *AUDIT_TYPES,  # last: an entry never needs another type applied before it
    )
