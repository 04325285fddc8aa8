"""Events of impact assessments (``aims.risk.impact_assessment.*``; full state and version)."""

from __future__ import annotations

from services.risk.events import catalogue
from services.risk.impact.schemas import ImpactAssessmentRead

IMPACT_ASSESSMENT_CREATED = catalogue.register(
    "impact_assessment.created",
    ImpactAssessmentRead,
    "An AI system impact assessment was started (draft).",
)
IMPACT_ASSESSMENT_UPDATED = catalogue.register(
    "impact_assessment.updated",
    ImpactAssessmentRead,
    "An impact assessment changed: its contents, or its status (submitted for review, sent back "
    "to draft, rejected with a reason, withdrawn, reopened, superseded by a newer approved one).",
)
IMPACT_ASSESSMENT_APPROVED = catalogue.register(
    "impact_assessment.approved",
    ImpactAssessmentRead,
    "An impact assessment was approved; it is now the system's current assessment.",
)
