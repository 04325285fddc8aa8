"""Errors of the readiness domain, each with a stable code."""

from __future__ import annotations

from shared.errors import NotFound, ValidationFailed


class CertificationPlanNotFound(NotFound):
    code = "certification-plan-not-found"
    title = "No certification plan"


class MilestoneNotFound(NotFound):
    code = "milestone-not-found"
    title = "Milestone not found"


class NoSnapshot(NotFound):
    code = "readiness-snapshot-not-found"
    title = "No readiness snapshot at that time"


class InvalidAsOf(ValidationFailed):
    code = "invalid-as-of"
    title = "Invalid as_of"


class InvalidPlan(ValidationFailed):
    code = "invalid-certification-plan"
    title = "Invalid certification plan"
