"""Events of internal audit (9.2): the full state and version in each."""

from __future__ import annotations

from services.evidence.audits.schemas import AuditRead, FindingRead, ProgrammeRead
from services.evidence.events import catalogue

AUDIT_PROGRAMME_CHANGED = catalogue.register(
    "audit_programme.changed",
    ProgrammeRead,
    "An internal audit programme (9.2.2) was created or changed.",
)
AUDIT_PLANNED = catalogue.register(
    "audit.planned",
    AuditRead,
    "An internal audit was planned (scope, criteria, dates, audit team).",
)
AUDIT_UPDATED = catalogue.register(
    "audit.updated",
    AuditRead,
    "An internal audit's plan, team, sampled evidence or conclusion changed.",
)
AUDIT_STARTED = catalogue.register("audit.started", AuditRead, "An internal audit began.")
AUDIT_COMPLETED = catalogue.register(
    "audit.completed", AuditRead, "An internal audit was completed (`completed_on`)."
)
AUDIT_CANCELLED = catalogue.register(
    "audit.cancelled",
    AuditRead,
    "An internal audit was cancelled; it no longer counts towards its programme's coverage.",
)
FINDING_RAISED = catalogue.register(
    "finding.raised",
    FindingRead,
    "An audit raised a finding (major/minor nonconformity, observation, opportunity for "
    "improvement); a nonconformity finding also opens a nonconformity.",
)
FINDING_UPDATED = catalogue.register(
    "finding.updated",
    FindingRead,
    "A finding changed, or closed (with its nonconformity, for nonconformity findings).",
)
