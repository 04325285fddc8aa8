"""The automatic part of a management review's inputs (ISO/IEC 42001 9.3.2), as of its date.

The snapshot is built from the live data as it stood at the end of the review date (or now, if
the review date is later) and stored with the review, so the record stays as it was on that day
however the data moves afterwards. Every list is capped (:data:`LIST_CAP`) and carries its
total count, so a snapshot stays bounded.

What "as it stood" can be rebuilt from, and what it cannot:

- review actions, nonconformities, corrective actions, findings and objectives keep the
  timestamps of their changes (created, raised, implemented, verified, closed), so their state at
  a past moment is exact (a corrective action's verification result is its latest one);
  measurements are dated by ``measured_on`` (a value measured before the review date counts even
  when it was entered later);
- objectives' targets and the documented-information statuses are read as they are now (they
  are not versioned here); the documented statuses compare review-by dates with the as-of day;
- risks come from the readiness domain's projection of the risk register, which keeps each
  risk's latest state only: they are shown as last known when the snapshot is taken (reviews
  overdue are judged at the as-of moment);
- the organisation's context (issues, interested parties: 4.1, 4.2) lives in the inventory
  service and the evidence service holds no copy, so those inputs are free text only (``auto``
  null with the reason).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.documented import service as documented
from services.evidence.objectives.service import objectives_as_of
from services.evidence.reviews.models import ManagementReview
from services.evidence.reviews.repository import ReviewRepository
from services.evidence.reviews.schemas import Section

LIST_CAP = 50
AUDIT_CAP = 20
#: Without an earlier review, performance trends look back this far.
DEFAULT_LOOKBACK = timedelta(days=365)

NO_AUTO: dict[Section, str] = {
    Section.CHANGES_IN_ISSUES: "The organisation's external and internal issues (4.1) are kept "
    "by the inventory service's context register; record their changes here.",
    Section.CHANGES_IN_NEEDS: "Interested parties and their requirements (4.2) are kept by the "
    "inventory service's context register; record their changes here.",
}


def end_of(day: date) -> datetime:
    """The first instant after ``day`` (UTC): what existed "on ``day``" came before it."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def as_of_day(review_date: date, today: date) -> date:
    """The day a review's inputs describe: its date, or today while that is still ahead."""
    return min(review_date, today)


async def build_snapshot(
    session: AsyncSession, review: ManagementReview, today: date
) -> dict[str, Any]:
    repo = ReviewRepository(session)
    day = as_of_day(review.review_date, today)
    at = end_of(day)
    previous = await repo.previous_review(review)
    since_day = (previous.held_on or previous.review_date) if previous is not None else None
    since_at = end_of(since_day) if since_day is not None else None

    action_counts, action_items = await repo.previous_actions_at(review, day, at, limit=LIST_CAP)
    nc_counts, nc_items = await repo.nonconformities_at(at, since_at, limit=LIST_CAP)
    ca_counts, ca_items = await repo.corrective_actions_at(day, at, limit=LIST_CAP)
    audit_since = since_day if since_day is not None else day - DEFAULT_LOOKBACK
    audit_counts, audits_done, audits_planned = await repo.audits_at(
        day, audit_since, limit=AUDIT_CAP
    )
    findings = await repo.findings_at(at)
    ofi_total, ofi_items = await repo.improvement_findings_at(at, limit=LIST_CAP)
    objective_total, objective_items = await objectives_as_of(session, day, at, limit=LIST_CAP)
    risk_counts, risk_items = await repo.risks_now(at, limit=LIST_CAP)
    summary = await documented.summary(session, day)
    documented_info = summary.model_dump(mode="json")
    documented_info["attention"] = documented_info["attention"][:LIST_CAP]

    def _measured(value: bool | None) -> int:
        return sum(1 for o in objective_items if o["on_target"] is value)

    sections: dict[str, Any] = {
        Section.PREVIOUS_ACTIONS: {"counts": action_counts, "items": action_items},
        Section.PERFORMANCE: {
            "nonconformities": {"counts": nc_counts, "items": nc_items},
            "corrective_actions": {"counts": ca_counts, "items": ca_items},
            "audits": {
                "since": audit_since.isoformat(),
                "counts": audit_counts,
                "completed": audits_done,
                "planned": audits_planned,
                "findings_by_kind": findings,
            },
        },
        Section.OBJECTIVES: {
            "counts": {
                "total": objective_total,
                "on_target": _measured(True),
                "off_target": _measured(False),
                "not_measured": _measured(None),
                "listed": len(objective_items),
            },
            "items": objective_items,
        },
        Section.RISKS: {
            "state": "as last received from the risk service when pre-filled",
            "counts": risk_counts,
            "items": risk_items,
        },
        Section.DOCUMENTED_INFORMATION: documented_info,
        Section.OPPORTUNITIES_FOR_IMPROVEMENT: {
            "counts": {"open": ofi_total},
            "items": ofi_items,
        },
    }
    return {
        "as_of": day.isoformat(),
        "previous_review": (
            {
                "id": str(previous.id),
                "title": previous.title,
                "review_date": previous.review_date.isoformat(),
                "held_on": previous.held_on.isoformat() if previous.held_on else None,
            }
            if previous is not None
            else None
        ),
        "list_cap": LIST_CAP,
        "sections": {str(k): v for k, v in sections.items()},
    }
