"""The registry of every record type this program syncs, in apply order (units first)."""

from shared.accounts import records as _users  # noqa: F401  (local tables: registered so migrations see them)
from shared.audit.records import AUDIT_TYPES
from shared.calendar.records import REVIEW_OVERRIDE, REVIEW_PLAN, REVIEW_PROJECT, REVIEW_REPORT
from shared.documents.records import DOCUMENT
from shared.drafts.records import REPORT_COMMENT, REPORT_DECISION, REPORT_DRAFT, REPORT_MEETING
from shared.essays.records import ESSAY_GRADE, ESSAY_TEMPLATE
from shared.members.records import MEMBER
from shared.members.rosters import ROSTER_COUNT
from shared.programmes.records import ACTION_PROGRAMME, PROGRAMME_PROGRESS
from shared.study.records import PROPAGANDA, STUDY_SESSION
from shared.surveys.records import QUESTIONNAIRE, SURVEY_RESPONDENT, SURVEY_RESPONSE
from shared.sync.registry import Registry
from shared.units.records import UNIT


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
