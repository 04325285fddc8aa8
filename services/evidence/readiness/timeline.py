"""The certification timeline: milestones planned backwards from a target date, no I/O.

Typical durations (ISO/IEC 17021-1 practice for a first certification): a readiness assessment
of 4–8 weeks, 3–6 months of remediation, an internal audit, a management review, Stage 1 (1–2
days, the documents), Stage 2 (3–9+ days, the operation), surveillance audits in years one and
two and a recertification audit before the certificate expires three years after it is issued.

:func:`plan` lays the milestones out backwards from the target with the chosen durations. When
the first milestone still to do would have had to start before today, it tries again with the
minimum durations (``compressed``); when even those do not fit, the target is ``reachable:
false``, with the reason and the earliest Stage 2 start that would fit.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta


class MilestoneKind(enum.StrEnum):
    READINESS_ASSESSMENT = "readiness_assessment"
    REMEDIATION = "remediation"
    INTERNAL_AUDIT = "internal_audit"
    MANAGEMENT_REVIEW = "management_review"
    STAGE1_AUDIT = "stage1_audit"
    STAGE2_AUDIT = "stage2_audit"
    SURVEILLANCE_AUDIT_1 = "surveillance_audit_1"
    SURVEILLANCE_AUDIT_2 = "surveillance_audit_2"
    RECERTIFICATION_AUDIT = "recertification_audit"


class TargetKind(enum.StrEnum):
    STAGE1 = "stage1"
    STAGE2 = "stage2"


# Before certification, in order: what must happen by the Stage 2 audit.
PRE_CERTIFICATION = (
    MilestoneKind.READINESS_ASSESSMENT,
    MilestoneKind.REMEDIATION,
    MilestoneKind.INTERNAL_AUDIT,
    MilestoneKind.MANAGEMENT_REVIEW,
    MilestoneKind.STAGE1_AUDIT,
    MilestoneKind.STAGE2_AUDIT,
)

TITLES = {
    MilestoneKind.READINESS_ASSESSMENT: "Readiness assessment (gap analysis, 4–8 weeks)",
    MilestoneKind.REMEDIATION: "Remediation of the gaps (3–6 months)",
    MilestoneKind.INTERNAL_AUDIT: "Internal audit of every clause and applicable control (9.2)",
    MilestoneKind.MANAGEMENT_REVIEW: "Management review of the audit results (9.3)",
    MilestoneKind.STAGE1_AUDIT: "Stage 1 audit: documentation review (1–2 days)",
    MilestoneKind.STAGE2_AUDIT: "Stage 2 audit: the AIMS in operation (3–9+ days)",
    MilestoneKind.SURVEILLANCE_AUDIT_1: "First surveillance audit (one year after certification)",
    MilestoneKind.SURVEILLANCE_AUDIT_2: "Second surveillance audit (two years after)",
    MilestoneKind.RECERTIFICATION_AUDIT: "Recertification audit (before the certificate expires "
    "three years after certification)",
}


@dataclass(frozen=True)
class PlanOptions:
    readiness_weeks: int = 6
    remediation_months: int = 4
    internal_audit_days: int = 10
    management_review_days: int = 1
    stage1_days: int = 2
    stage2_days: int = 5
    days_audit_to_review: int = 14
    days_review_to_stage1: int = 14
    days_stage1_to_stage2: int = 30
    surveillance_days: int = 2
    recertification_days: int = 3


def minimum(options: PlanOptions) -> PlanOptions:
    """The shortest plan the typical durations allow (the audit and review lengths are kept)."""
    return replace(
        options,
        readiness_weeks=4,
        remediation_months=3,
        stage1_days=1,
        stage2_days=3,
        days_audit_to_review=1,
        days_review_to_stage1=1,
        days_stage1_to_stage2=1,
    )


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class PlannedMilestone:
    kind: MilestoneKind
    title: str
    start: date
    end: date


@dataclass(frozen=True)
class TimelinePlan:
    milestones: tuple[PlannedMilestone, ...]
    stage2_start: date
    reachable: bool
    compressed: bool
    reason: str
    earliest_stage2_start: date


def _span(kind: MilestoneKind, end: date, days: int) -> PlannedMilestone:
    return PlannedMilestone(kind, TITLES[kind], end - timedelta(days=days - 1), end)


def _backwards(stage2_start: date, o: PlanOptions) -> list[PlannedMilestone]:
    k = MilestoneKind
    stage2 = PlannedMilestone(
        k.STAGE2_AUDIT,
        TITLES[k.STAGE2_AUDIT],
        stage2_start,
        stage2_start + timedelta(days=o.stage2_days - 1),
    )
    stage1 = _span(
        k.STAGE1_AUDIT, stage2_start - timedelta(days=o.days_stage1_to_stage2), o.stage1_days
    )
    review = _span(
        k.MANAGEMENT_REVIEW,
        stage1.start - timedelta(days=o.days_review_to_stage1),
        o.management_review_days,
    )
    audit = _span(
        k.INTERNAL_AUDIT,
        review.start - timedelta(days=o.days_audit_to_review),
        o.internal_audit_days,
    )
    remediation_end = audit.start - timedelta(days=1)
    remediation = PlannedMilestone(
        k.REMEDIATION,
        TITLES[k.REMEDIATION],
        add_months(remediation_end + timedelta(days=1), -o.remediation_months),
        remediation_end,
    )
    readiness = _span(
        k.READINESS_ASSESSMENT, remediation.start - timedelta(days=1), o.readiness_weeks * 7
    )
    after = []
    for kind, months, days in (
        (k.SURVEILLANCE_AUDIT_1, 12, o.surveillance_days),
        (k.SURVEILLANCE_AUDIT_2, 24, o.surveillance_days),
        # Three months before the third anniversary, so the decision precedes the expiry.
        (k.RECERTIFICATION_AUDIT, 33, o.recertification_days),
    ):
        start = add_months(stage2_start, months)
        after.append(PlannedMilestone(kind, TITLES[kind], start, start + timedelta(days=days - 1)))
    return [readiness, remediation, audit, review, stage1, stage2, *after]


def earliest_stage2(today: date, o: PlanOptions, done: frozenset[MilestoneKind]) -> date:
    """The earliest Stage 2 start, going forwards from today over what is not done yet."""
    k = MilestoneKind
    cursor = today
    steps: list[tuple[MilestoneKind, int]] = [
        (k.READINESS_ASSESSMENT, 0),
        (k.REMEDIATION, 0),
        (k.INTERNAL_AUDIT, 0),
        (k.MANAGEMENT_REVIEW, o.days_audit_to_review),
        (k.STAGE1_AUDIT, o.days_review_to_stage1),
        (k.STAGE2_AUDIT, o.days_stage1_to_stage2),
    ]
    previous_done = True
    for kind, gap in steps:
        if kind == k.STAGE2_AUDIT:
            return cursor + timedelta(days=0 if previous_done else gap)
        if kind in done:
            previous_done = True
            continue
        start = cursor + timedelta(days=0 if previous_done else gap)
        if kind == k.READINESS_ASSESSMENT:
            end = start + timedelta(days=o.readiness_weeks * 7 - 1)
        elif kind == k.REMEDIATION:
            end = add_months(start, o.remediation_months) - timedelta(days=1)
        elif kind == k.INTERNAL_AUDIT:
            end = start + timedelta(days=o.internal_audit_days - 1)
        elif kind == k.MANAGEMENT_REVIEW:
            end = start + timedelta(days=o.management_review_days - 1)
        else:
            end = start + timedelta(days=o.stage1_days - 1)
        cursor = end + timedelta(days=1)
        previous_done = False
    return cursor  # pragma: no cover - the loop always returns at Stage 2


def stage2_start_for(target: date, kind: TargetKind, o: PlanOptions) -> date:
    if kind == TargetKind.STAGE2:
        return target
    return target + timedelta(days=o.stage1_days - 1 + o.days_stage1_to_stage2)


def plan(
    target: date,
    kind: TargetKind,
    options: PlanOptions,
    today: date,
    done: Mapping[MilestoneKind, date] | None = None,
) -> TimelinePlan:
    """Milestones for a target date, and whether it can still be reached from ``today``."""
    finished = frozenset(done or {})
    stage2 = stage2_start_for(target, kind, options)
    fastest = minimum(options)
    earliest = earliest_stage2(today, fastest, finished)

    def first_open_start(milestones: list[PlannedMilestone]) -> date | None:
        todo = [m for m in milestones if m.kind in PRE_CERTIFICATION and m.kind not in finished]
        return todo[0].start if todo else None

    chosen = _backwards(stage2, options)
    start = first_open_start(chosen)
    if start is None or start >= today:
        return TimelinePlan(
            tuple(chosen), stage2, True, False, "The target fits the chosen durations.", earliest
        )
    short = _backwards(stage2, fastest)
    short_start = first_open_start(short)
    if short_start is not None and short_start >= today and earliest <= stage2:
        return TimelinePlan(
            tuple(short),
            stage2,
            True,
            True,
            "The chosen durations no longer fit; the plan uses the minimum ones (readiness "
            "assessment 4 weeks, remediation 3 months, Stage 1 one day, Stage 2 three days).",
            earliest,
        )
    return TimelinePlan(
        tuple(chosen),
        stage2,
        False,
        False,
        f"The target is no longer reachable: starting today ({today.isoformat()}) with the "
        f"minimum durations, Stage 2 could start on {earliest.isoformat()} at the earliest, "
        f"after the planned {stage2.isoformat()}.",
        earliest,
    )
