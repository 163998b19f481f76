"""Review reports climbing the tree (D23-D25b), completeness and timeliness per level, and "what is due" (D27).

Pure: the API gathers each expected report's facts (versions, dates, returns, waivers) into `ReportFacts` and asks
here where it stands. Ordering never uses a wall clock of a node: a return names the version it returned, and the
report is back in once a later version has been sent up.

Assumptions shown to users (`ASSUMPTIONS_VI`):
- a report is "in" at the level above once its committee approved it and it was sent up (issued); it leaves again
  when that level returns it, and is back when a corrected, later version is sent up;
- timeliness counts the first time the report was sent up against its due date; a correction does not make an
  on-time report late, and is tracked as a return;
- armed-forces units review under their own guidance (D3) and are not counted as expected reports;
- a returned report is corrected within `CORRECTION_DAYS` days unless the return says otherwise;
- the source sets no deadline for an essay rewrite (D13): rewrites are listed without a date, after dated items;
- programme progress is due at the end of each calendar year (D18), as the yearly evaluation is.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from shared.domain.deadlines import ISSUANCE_DAYS, Timeliness, issuance_deadline, timeliness

CORRECTION_DAYS = 7
"""Days a unit has to correct a returned report when the return names no date (assumption, a setting)."""

ASSUMPTIONS_VI = (
    "Báo cáo được tính là đã đến cấp trên khi cấp ủy đã thông qua và đã gửi lên (ban hành); nếu cấp trên trả lại "
    "thì phải gửi lại bản đã sửa (phiên bản mới hơn).",
    "Tính đúng hạn theo lần gửi lên đầu tiên; báo cáo bị trả lại để sửa được theo dõi riêng.",
    "Đơn vị lực lượng vũ trang sơ kết, tổng kết theo hướng dẫn riêng (D3), không tính vào số báo cáo phải nộp.",
    f"Báo cáo bị trả lại phải sửa xong trong {CORRECTION_DAYS} ngày nếu cấp trên không ghi hạn khác.",
    "Hướng dẫn không quy định hạn viết lại bài thu hoạch (D13): các bài phải viết lại được liệt kê không có hạn.",
    "Báo cáo tiến độ chương trình hành động đến hạn vào cuối mỗi năm dương lịch (D18).",
    f"Báo cáo hoàn chỉnh trình ban hành chậm nhất {ISSUANCE_DAYS} ngày lịch sau khi cấp ủy thông qua (D25).",
)


class ReportState(enum.StrEnum):
    """Where one expected report stands (D24, D25b); the value is the label users read."""

    MISSING = "Chưa có dự thảo"
    DRAFTING = "Đang dự thảo"
    SUBMITTED = "Đã trình cấp ủy"
    APPROVED = "Cấp ủy đã thông qua, chưa gửi lên"
    RETURNED = "Bị trả lại để sửa"
    RECEIVED = "Đã gửi lên"
    ACCEPTED = "Cấp trên đã tiếp nhận"
    WAIVED = "Được miễn"


@dataclass(frozen=True, slots=True)
class ReportFacts:
    """What is known of one unit's report for one review (document and kind)."""

    unit: uuid.UUID
    depth: int
    due: date
    """The unit's due date, cascaded down from the level that set it (D25a)."""
    versions: int = 0
    submitted_on: date | None = None
    approved_on: date | None = None
    sent_version: int | None = None
    """The latest version sent up (issued)."""
    first_sent_on: date | None = None
    last_sent_on: date | None = None
    returned_version: int | None = None
    """The highest version a level above returned for correction."""
    correct_by: date | None = None
    accepted_version: int | None = None
    waived: bool = False
    """The level above decided, with a reason, to approve its own report without this one (D25b)."""

    @property
    def received(self) -> bool:
        """Sent up and not returned since (D25b: "in")."""
        return self.sent_version is not None and (
            self.returned_version is None or self.sent_version > self.returned_version
        )

    @property
    def return_open(self) -> bool:
        return self.returned_version is not None and not self.received

    @property
    def state(self) -> ReportState:
        if self.received:
            accepted = self.accepted_version is not None and self.accepted_version >= (self.sent_version or 0)
            return ReportState.ACCEPTED if accepted else ReportState.RECEIVED
        if self.return_open:
            return ReportState.RETURNED
        if self.waived:
            return ReportState.WAIVED
        if self.approved_on is not None:
            return ReportState.APPROVED
        if self.submitted_on is not None:
            return ReportState.SUBMITTED
        return ReportState.DRAFTING if self.versions else ReportState.MISSING

    def timeliness(self, today: date) -> Timeliness:
        """On time, late, pending or overdue, by the first time it was sent up (D25b)."""
        return timeliness(self.due, today=today, submitted_on=self.first_sent_on)

    def issuance_late(self, today: date) -> bool:
        """D25: sent up (or, unsent, still open on `today`) more than 10 days after its committee approved it."""
        if self.approved_on is None:
            return False
        sent = self.first_sent_on if self.first_sent_on is not None else today
        return sent > issuance_deadline(self.approved_on)


@dataclass(frozen=True, slots=True)
class LevelCount:
    """Completeness and timeliness of the reports expected at one depth (or over all, `depth` None)."""

    depth: int | None
    expected: int
    received: int
    waived: int
    on_time: int
    late: int
    """Received after the due date."""
    overdue: int
    """Not received (nor waived) and past the due date."""
    returned: int
    issuance_late: int

    @property
    def missing(self) -> int:
        return self.expected - self.received - self.waived


def _count(depth: int | None, facts: list[ReportFacts], today: date) -> LevelCount:
    received = [f for f in facts if f.received]
    open_ = [f for f in facts if not f.received and not f.waived]
    return LevelCount(
        depth=depth,
        expected=len(facts),
        received=len(received),
        waived=sum(f.waived and not f.received for f in facts),
        on_time=sum(f.timeliness(today) is Timeliness.ON_TIME for f in received),
        late=sum(f.timeliness(today) is Timeliness.LATE for f in received),
        overdue=sum(f.timeliness(today) is Timeliness.OVERDUE for f in open_),
        returned=sum(f.return_open for f in facts),
        issuance_late=sum(f.issuance_late(today) for f in facts),
    )


def completeness(facts: Iterable[ReportFacts], *, today: date) -> tuple[LevelCount, list[LevelCount]]:
    """Totals over every expected report, and the same per depth, shallowest first (D25b)."""
    all_facts = list(facts)
    by_depth: dict[int, list[ReportFacts]] = {}
    for f in all_facts:
        by_depth.setdefault(f.depth, []).append(f)
    return _count(None, all_facts, today), [_count(d, by_depth[d], today) for d in sorted(by_depth)]


def missing_lower_reports(children: Iterable[ReportFacts]) -> list[uuid.UUID]:
    """D25b: the lower units whose report is neither in nor waived; a level approves its own only when empty."""
    return [f.unit for f in children if not f.received and not f.waived]


def correction_due(decided_on: date, correct_by: date | None) -> date:
    return correct_by if correct_by is not None else decided_on + timedelta(days=CORRECTION_DAYS)


# What is due (D27).


class DueKind(enum.StrEnum):
    """Kinds of open deadline, the value being the label users read; the order breaks ties of equal dates."""

    CORRECTION = "Sửa báo cáo bị trả lại"
    ISSUANCE = "Trình ban hành báo cáo"
    REPORT = "Sơ kết, tổng kết và gửi báo cáo"
    PLAN = "Ban hành kế hoạch sơ kết, tổng kết"
    PROGRESS = "Báo cáo tiến độ chương trình hành động"
    REWRITE = "Viết lại bài thu hoạch"


_KIND_RANK = {k: i for i, k in enumerate(DueKind)}


@dataclass(frozen=True, slots=True)
class DueItem:
    kind: DueKind
    due: date | None
    """None where the source sets no deadline (a rewrite)."""
    responsible: uuid.UUID
    """The unit that must act."""
    subject: str
    """What it is about, in the users' words (a document number, a target's indicator)."""
    ref: uuid.UUID | None = None
    """The record it comes from, or the document."""
    responsible_code: str = ""
    """Orders items of equal date and kind the way users read a list of units."""

    def days_left(self, today: date) -> int | None:
        return None if self.due is None else (self.due - today).days

    def late(self, today: date) -> bool:
        return self.due is not None and today > self.due


def by_urgency(items: Iterable[DueItem]) -> list[DueItem]:
    """Most urgent first: the earliest (most overdue) date first, undated items last; ties by kind, then unit."""
    return sorted(
        items,
        key=lambda i: (
            i.due is None,
            i.due or date.max,
            _KIND_RANK[i.kind],
            i.responsible_code,
            i.subject,
            str(i.responsible),
        ),
    )


def progress_years(issued_on: date, deadline: date, *, today: date) -> list[int]:
    """Years whose progress report (at the end of the year, D18) has fallen due or falls due this year."""
    last = min(deadline.year, today.year)
    return list(range(issued_on.year, last + 1))


def year_end(year: int) -> date:
    return date(year, 12, 31)
