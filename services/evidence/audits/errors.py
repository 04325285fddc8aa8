"""Errors of the internal audit domain, each with a stable code."""

from __future__ import annotations

from shared.errors import BadRequest, Conflict, NotFound, ValidationFailed


class ProgrammeNotFound(NotFound):
    code = "audit-programme-not-found"
    title = "Audit programme not found"


class AuditNotFound(NotFound):
    code = "audit-not-found"
    title = "Audit not found"


class FindingNotFound(NotFound):
    code = "finding-not-found"
    title = "Finding not found"


class AuditorNotIndependent(Conflict):
    """An auditor owns a system, control or process in the audit's scope (9.2.2 c);
    ``reasons`` lists each conflict."""

    code = "auditor-not-independent"
    title = "An auditor is not independent of the audit's scope"


class InvalidAuditTransition(Conflict):
    code = "invalid-audit-transition"
    title = "The audit cannot make this change in its current status"


class AuditNotInProgress(Conflict):
    code = "audit-not-in-progress"
    title = "Findings are raised on an audit in progress or completed"


class FindingKindLocked(Conflict):
    code = "finding-kind-locked"
    title = "A nonconformity finding cannot become an observation"


class FindingStatusFollowsNonconformity(Conflict):
    code = "finding-status-follows-nonconformity"
    title = "A nonconformity finding closes when its nonconformity closes"


class ProgrammeHasAudits(Conflict):
    code = "programme-has-audits"
    title = "The programme's period must hold its audits"


class UnknownReference(ValidationFailed):
    """A body names a clause, control, system, evidence item or programme that does not exist in
    the caller's organisation."""

    code = "unknown-reference"
    title = "Unknown reference"


class InvalidDates(ValidationFailed):
    code = "invalid-dates"
    title = "Invalid dates"


class InvalidTarget(BadRequest):
    code = "invalid-target"
    title = "Invalid target filter"
