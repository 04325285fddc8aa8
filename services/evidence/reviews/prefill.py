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
- risks are shown as they stood at the as-of moment, from every version the risk service
  announced (:class:`~services.evidence.reviews.models.ReviewSourceVersion`); while none has
  been received, from the readiness domain's projection of the register as last known (reviews
  overdue are judged at the as-of moment either way);
- the organisation's context (issues 4.1, interested parties and their requirements 4.2) is
  kept by the inventory service; the evidence service keeps every version its events announced
  (:class:`~services.evidence.reviews.models.ReviewSourceVersion`), so those inputs show the
  context as it stood at the as-of moment and what was recorded or changed since the previous
  review (or over the last year, without one).
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
    context_since = since_at if since_at is not None else end_of(day - DEFAULT_LOOKBACK)
    issue_counts, issue_items = await repo.context_at(
        "context_issue", at, context_since, limit=LIST_CAP
    )
    party_counts, party_items = await repo.context_at(
        "interested_party", at, context_since, limit=LIST_CAP
    )
    if await repo.has_source_versions("risk"):
        risk_state = "as of the as-of moment, from the versions the risk service announced"
        risk_counts, risk_items = await repo.risks_at(at, limit=LIST_CAP)
    else:  # no version received (yet): the readiness projection, as last received
        risk_state = "as last received from the risk service when pre-filled"
        risk_counts, risk_items = await repo.risks_now(at, limit=LIST_CAP)
    summary = await documented.summary(session, day)
    documented_info = summary.model_dump(mode="json")
    documented_info["attention"] = documented_info["attention"][:LIST_CAP]

    def _measured(value: bool | None) -> int:
        return sum(1 for o in objective_items if o["on_target"] is value)

    sections: dict[str, Any] = {
        Section.PREVIOUS_ACTIONS: {"counts": action_counts, "items": action_items},
        Section.CHANGES_IN_ISSUES: {
            "since": context_since.isoformat(),
            "counts": issue_counts,
            "items": issue_items,
        },
        Section.CHANGES_IN_NEEDS: {
            "since": context_since.isoformat(),
            "counts": party_counts,
            "items": party_items,
        },
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
            "state": risk_state,
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
