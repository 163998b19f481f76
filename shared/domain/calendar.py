"""The review calendar (D16-D21): preliminary and final reviews of a document, plan deadlines, term and year plans.

Assumptions the source leaves open, each a setting or a constant the UI shows:

- documents of levels below the province follow a rule-table row the province configures, by default the
  provincial 3 and 5 years (`LOWER_LEVEL_ASSUMPTION_VI`);
- "full years" from 29 February fall on 28 February (`LEAP_DAY_ASSUMPTION_VI`);
- a month-based deadline that lands on a day the month lacks falls on that month's last day
  (`MONTH_END_ASSUMPTION_VI`);
- the yearly evaluation (D18) is dated at the end of each calendar year (`ANNUAL_EVALUATION_ASSUMPTION_VI`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from shared.domain.deadlines import DEFAULT_LEAD_TIMES, LeadTimes, cascade_due_dates
from shared.domain.errors import ScheduleError

LEAP_DAY_ASSUMPTION_VI = "Mốc đủ năm tính từ ngày 29/02 được lấy vào ngày 28/02 nếu năm đến hạn không phải năm nhuận."
LEAP_DAY_ASSUMPTION_EN = "Full years counted from 29 February fall on 28 February when the due year is not a leap year."
MONTH_END_ASSUMPTION_VI = (
    "Hạn ban hành kế hoạch là 2 tháng trước thời điểm sơ kết, tổng kết; nếu tháng đó không có ngày tương ứng "
    "thì lấy ngày cuối cùng của tháng (ví dụ: 30/04 → 28/02 hoặc 29/02)."
)
LOWER_LEVEL_ASSUMPTION_VI = (
    "Hướng dẫn không quy định mốc sơ kết, tổng kết cho văn bản của cấp dưới cấp tỉnh; "
    "mặc định áp dụng như văn bản của Tỉnh ủy (3 năm sơ kết, 5 năm tổng kết) và Tỉnh ủy có thể điều chỉnh."
)
ANNUAL_EVALUATION_ASSUMPTION_VI = (
    "Đánh giá kết quả thực hiện hằng năm được tính vào cuối mỗi năm dương lịch, "
    "từ khi ký ban hành đến trước thời điểm tổng kết."
)

PLAN_LEAD_MONTHS = 2
"""D20: the plan for a review is issued at least this many months before the review falls due."""

PLAN_NOTICE_DAYS = 30
"""Default warning before the plan deadline during which a milestone already shows as plan-due (a setting)."""


class IssuingLevel(enum.StrEnum):
    """Which row of the review rule table a document follows (D16); the value is the label users read."""

    CENTRAL = "Trung ương"
    PROVINCE = "Tỉnh ủy"
    LOWER = "Cấp dưới cấp tỉnh"


class ReviewKind(enum.StrEnum):
    """The two review milestones of a document (D16)."""

    PRELIMINARY = "Sơ kết"
    FINAL = "Tổng kết"


class MilestoneStatus(enum.StrEnum):
    """Where a review milestone stands on a given day."""

    UPCOMING = "Chưa đến kỳ"
    PLAN_DUE = "Đến kỳ ban hành kế hoạch"
    OVERDUE = "Quá hạn"
    DONE = "Đã thực hiện"


@dataclass(frozen=True, slots=True)
class ReviewRule:
    """One row of the review rule table: full years from signing to each review (D16)."""

    level: IssuingLevel
    preliminary_years: int
    final_years: int
    note_vi: str = ""
    """Shown beside the row in the settings screen; says when the row is an assumption."""


@dataclass(frozen=True, slots=True)
class ReviewRules:
    """The review rule table, one row per issuing level; the defaults are those of the source document (D16)."""

    rows: tuple[ReviewRule, ...] = (
        ReviewRule(IssuingLevel.CENTRAL, preliminary_years=5, final_years=10),
        ReviewRule(IssuingLevel.PROVINCE, preliminary_years=3, final_years=5),
        ReviewRule(IssuingLevel.LOWER, preliminary_years=3, final_years=5, note_vi=LOWER_LEVEL_ASSUMPTION_VI),
    )

    def __post_init__(self) -> None:
        levels = [row.level for row in self.rows]
        if sorted(levels) != sorted(IssuingLevel):
            raise ScheduleError(
                "rules.levels",
                "Bảng mốc sơ kết, tổng kết phải có đúng một dòng cho mỗi cấp ban hành.",
                "The review rule table must have exactly one row per issuing level.",
            )
        for row in self.rows:
            if not 0 < row.preliminary_years < row.final_years:
                raise ScheduleError(
                    "rules.years",
                    f"Cấp {row.level}: số năm sơ kết phải dương và nhỏ hơn số năm tổng kết.",
                    f"Level {row.level.name}: preliminary years must be positive and fewer than final years.",
                )

    def rule_for(self, level: IssuingLevel) -> ReviewRule:
        return next(row for row in self.rows if row.level is level)


DEFAULT_REVIEW_RULES = ReviewRules()


@dataclass(frozen=True, slots=True)
class ReviewOverride:
    """A review moved earlier or later on Central's or the province's direction (D17); both texts are required."""

    kind: ReviewKind
    due: date
    reason: str
    instructing_document: str
    """Number of the document that gave the direction, e.g. `12-CV/TU`."""

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise ScheduleError(
                "override.reason",
                "Điều chỉnh thời điểm sơ kết, tổng kết phải ghi rõ lý do.",
                "A moved review must state its reason.",
            )
        if not self.instructing_document.strip():
            raise ScheduleError(
                "override.instructing_document",
                "Điều chỉnh thời điểm sơ kết, tổng kết phải ghi số văn bản chỉ đạo.",
                "A moved review must cite the instructing document.",
            )


@dataclass(frozen=True, slots=True)
class Milestone:
    """A review of one document: the date the rule gives, and the date that applies after any override (D16, D17)."""

    document: str
    """The caller's reference to the document (its id or number); carried through plans untouched."""
    kind: ReviewKind
    scheduled_due: date
    override: ReviewOverride | None = None

    @property
    def due(self) -> date:
        return self.override.due if self.override is not None else self.scheduled_due

    @property
    def moved(self) -> bool:
        return self.due != self.scheduled_due

    @property
    def plan_deadline(self) -> date:
        """D20: the last day to issue the plan for this review."""
        return add_months(self.due, -PLAN_LEAD_MONTHS)

    @property
    def cut_off(self) -> date:
        """D20: figures in the review count up to this day, the due date, not the day the report is written."""
        return self.due


@dataclass(frozen=True, slots=True)
class ReviewStep:
    """When units at one depth hold their review, so base units review before those above them (D21)."""

    depth: int
    due: date


def add_full_years(day: date, years: int) -> date:
    """The same day and month `years` later; 29 February falls on 28 February in a common year (D16)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        if (day.month, day.day) != (2, 29):
            raise
        return date(day.year + years, 2, 28)


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier when negative), clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, min(day.day, _days_in_month(year, month0 + 1)))


def issuing_level_for_depth(depth: int) -> IssuingLevel:
    """The rule row of a document issued by a unit of the provincial tree, the province being depth 0."""
    if depth < 0:
        raise ScheduleError("level.depth", "Cấp không hợp lệ.", "Depth must not be negative.")
    return IssuingLevel.PROVINCE if depth == 0 else IssuingLevel.LOWER


def review_milestones(
    document: str,
    signed_on: date,
    level: IssuingLevel,
    *,
    rules: ReviewRules = DEFAULT_REVIEW_RULES,
    overrides: Iterable[ReviewOverride] = (),
) -> tuple[Milestone, Milestone]:
    """The preliminary and final review of a document signed on `signed_on` (D16), with overrides applied (D17).

    Refuses two overrides of the same review, and a calendar where the reviews do not follow the signing date and
    each other in order.
    """
    by_kind: dict[ReviewKind, ReviewOverride] = {}
    for override in overrides:
        if override.kind in by_kind:
            raise ScheduleError(
                "override.duplicate",
                f"Có hơn một điều chỉnh cho mốc {override.kind.value.lower()}.",
                f"More than one override for the {override.kind.name.lower()} review.",
            )
        by_kind[override.kind] = override
    rule = rules.rule_for(level)
    preliminary = Milestone(
        document,
        ReviewKind.PRELIMINARY,
        add_full_years(signed_on, rule.preliminary_years),
        by_kind.get(ReviewKind.PRELIMINARY),
    )
    final = Milestone(
        document, ReviewKind.FINAL, add_full_years(signed_on, rule.final_years), by_kind.get(ReviewKind.FINAL)
    )
    if not signed_on < preliminary.due < final.due:
        raise ScheduleError(
            "override.order",
            "Sau điều chỉnh, sơ kết phải sau ngày ký ban hành và trước tổng kết.",
            "After overrides the preliminary review must fall after signing and before the final review.",
        )
    return preliminary, final


def annual_evaluations(signed_on: date, final_due: date, *, month: int = 12, day: int = 31) -> tuple[date, ...]:
    """Dates of the yearly evaluations (D18): one per calendar year, after signing and before the final review.

    The evaluation date within the year is a setting (end of year by default), clamped to the month's end.
    """
    if not 1 <= month <= 12 or day < 1:
        raise ScheduleError(
            "evaluation.day", "Ngày đánh giá hằng năm không hợp lệ.", "The yearly evaluation day is not valid."
        )
    dates = []
    for year in range(signed_on.year, final_due.year + 1):
        evaluation = date(year, month, min(day, _days_in_month(year, month)))
        if signed_on < evaluation < final_due:
            dates.append(evaluation)
    return tuple(dates)


def term_plan(term_start: date, term_end: date, milestones: Iterable[Milestone]) -> tuple[Milestone, ...]:
    """Every review falling due in a congress term, both ends included, in due-date order (D19)."""
    if term_end < term_start:
        raise ScheduleError(
            "plan.term",
            "Ngày kết thúc nhiệm kỳ phải sau ngày bắt đầu.",
            "The end of the term must be after its start.",
        )
    return _plan(term_start, term_end, milestones)


def next_year_plan(year: int, milestones: Iterable[Milestone]) -> tuple[Milestone, ...]:
    """Every review falling due in calendar year `year`, in due-date order (D19: the year-end plan for next year)."""
    return _plan(date(year, 1, 1), date(year, 12, 31), milestones)


def milestone_status(
    milestone: Milestone, *, today: date, done: bool, notice_days: int = PLAN_NOTICE_DAYS
) -> MilestoneStatus:
    """Where a review stands on `today` (D20).

    Plan-due from `notice_days` before the plan deadline until the due date; overdue from the day after the due
    date while not done.
    """
    if notice_days < 0:
        raise ScheduleError("status.notice", "Số ngày báo trước không được âm.", "Notice days must not be negative.")
    if done:
        return MilestoneStatus.DONE
    if today > milestone.due:
        return MilestoneStatus.OVERDUE
    if today >= milestone.plan_deadline - timedelta(days=notice_days):
        return MilestoneStatus.PLAN_DUE
    return MilestoneStatus.UPCOMING


def bottom_up_review_steps(
    due: date, depths: Iterable[int], lead: LeadTimes = DEFAULT_LEAD_TIMES, *, top_depth: int = 0
) -> tuple[ReviewStep, ...]:
    """Review dates by depth, deepest first: base units, then districts, then the level that issued the plan (D21).

    The unit at `top_depth` reviews on `due`; each depth below reviews its lead time before the one above it.
    """
    due_dates: Mapping[int, date] = cascade_due_dates(due, depths, lead, top_depth=top_depth)
    return tuple(ReviewStep(depth, due_dates[depth]) for depth in sorted(due_dates, reverse=True))


_KIND_ORDER: Mapping[ReviewKind, int] = {ReviewKind.PRELIMINARY: 0, ReviewKind.FINAL: 1}


def _plan(first: date, last: date, milestones: Iterable[Milestone]) -> tuple[Milestone, ...]:
    chosen = [milestone for milestone in milestones if first <= milestone.due <= last]
    return tuple(sorted(chosen, key=lambda m: (m.due, m.document, _KIND_ORDER[m.kind])))


def _days_in_month(year: int, month: int) -> int:
    first_of_next = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return (first_of_next - timedelta(days=1)).day
