"""Events of readiness and the certification plan (``aims.evidence.readiness.*`` …)."""

from __future__ import annotations

from services.evidence.events import catalogue
from services.evidence.readiness.schemas import (
    CertificationPlanRead,
    MilestoneRead,
    ReadinessChanged,
)

READINESS_CHANGED = catalogue.register(
    "readiness.changed",
    ReadinessChanged,
    "The organisation's readiness verdict, score, set of blockers or a clause's or control's "
    "status changed (recomputed after the events that affect it, at most once per organisation "
    "every few seconds, and daily). Carries blocker counts per code, the blocker keys added and "
    "removed and the clauses and controls whose status moved (at most 20 each); `dataversion` "
    "is the snapshot number.",
)
MILESTONE_OVERDUE = catalogue.register(
    "milestone.overdue",
    MilestoneRead,
    "A certification milestone's planned end passed and it is not marked done.",
)
CERTIFICATION_PLAN_UPDATED = catalogue.register(
    "certification_plan.updated",
    CertificationPlanRead,
    "The certification plan was set or changed (target, options, a milestone done), with its "
    "milestones and whether the target is still reachable.",
)
