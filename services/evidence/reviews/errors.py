"""Errors of the management review domain, each with a stable code."""

from __future__ import annotations

from shared.errors import Conflict, NotFound, ValidationFailed


class ManagementReviewNotFound(NotFound):
    code = "management-review-not-found"
    title = "Management review not found"


class ActionNotFound(NotFound):
    code = "management-review-action-not-found"
    title = "Management review action not found"


class ReviewStateConflict(Conflict):
    """The review is not in a state that allows this (e.g. changing a closed review)."""

    code = "management-review-state"
    title = "Not allowed in the review's current state"


class InvalidReview(ValidationFailed):
    code = "invalid-management-review"
    title = "Invalid management review"
