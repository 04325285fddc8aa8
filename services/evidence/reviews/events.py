"""Events of management reviews (9.3) and their actions: the full state and version in each."""

from __future__ import annotations

from services.evidence.events import catalogue
from services.evidence.reviews.schemas import ManagementReviewState, ReviewActionRead

REVIEW_PLANNED = catalogue.register(
    "management_review.planned", ManagementReviewState, "A management review (9.3) was planned."
)
REVIEW_UPDATED = catalogue.register(
    "management_review.updated",
    ManagementReviewState,
    "A management review changed: title, date, attendees, notes, decisions, or its inputs were "
    "pre-filled again.",
)
REVIEW_HELD = catalogue.register(
    "management_review.held", ManagementReviewState, "A management review took place."
)
REVIEW_CLOSED = catalogue.register(
    "management_review.closed",
    ManagementReviewState,
    "A management review's record was closed with its decisions; its actions stay tracked.",
)
ACTION_CREATED = catalogue.register(
    "management_review.action_created",
    ReviewActionRead,
    "A management review decided an action (9.3.3), with an owner and a due date.",
)
ACTION_UPDATED = catalogue.register(
    "management_review.action_updated",
    ReviewActionRead,
    "A management review action changed (owner, due date, reopened …).",
)
ACTION_DONE = catalogue.register(
    "management_review.action_done", ReviewActionRead, "A management review action was done."
)
ACTION_CANCELLED = catalogue.register(
    "management_review.action_cancelled",
    ReviewActionRead,
    "A management review action was cancelled.",
)
ACTION_OVERDUE = catalogue.register(
    "management_review.action_overdue",
    ReviewActionRead,
    "A management review action is still open the day after its due date.",
)
