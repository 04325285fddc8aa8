"""Events readiness handles, each consumer on one filter subject (nats-server 2.9 honours only
one): the risk service's risks and impact assessments (projected here), and every event that
can change readiness, which arms the debounced recompute.

Whatever the documented, items, audit or corrective domains keep from the same events is read
at recompute time; the recompute runs a couple of seconds after the last event of a burst, by
when those consumers have applied theirs (and a later event or the daily run catches up if not).
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.readiness import service
from services.evidence.readiness.schemas import RiskData
from shared.events.consumer import EventHandler
from shared.events.envelope import CloudEvent

RISK_EVENTS = "aims.risk.>"
INVENTORY_EVENTS = "aims.inventory.>"
EVIDENCE_EVENTS = "aims.evidence.>"

# Our own announcements change nothing readiness reads (and would only re-arm the recompute).
OWN_TYPES = (
    "aims.evidence.readiness.",
    "aims.evidence.milestone.",
    "aims.evidence.certification_plan.",
)
IGNORED_TYPES = ("aims.inventory.apikey.", "aims.risk.apikey.", "aims.evidence.apikey.")


async def on_risk_event(session: AsyncSession, event: CloudEvent) -> None:
    """Project risks and impact assessments; any risk-service change may move readiness."""
    if event.type.startswith("aims.risk.risk."):
        await service.apply_risk(session, RiskData.model_validate(event.data), event.dataversion)
    elif event.type.startswith("aims.risk.impact_assessment."):
        await service.apply_impact_assessment(
            session, service.ImpactAssessmentData.model_validate(event.data), event.dataversion
        )
    elif event.type.startswith(IGNORED_TYPES):
        return
    await service.request_recompute(session, uuid.UUID(event.orgid))


async def on_other_event(session: AsyncSession, event: CloudEvent) -> None:
    if event.type.startswith(OWN_TYPES) or event.type.startswith(IGNORED_TYPES):
        return
    await service.request_recompute(session, uuid.UUID(event.orgid))


HANDLERS: list[EventHandler] = [
    EventHandler(name="readiness-risk", subjects=[RISK_EVENTS], handle=on_risk_event),
    EventHandler(name="readiness-inventory", subjects=[INVENTORY_EVENTS], handle=on_other_event),
    EventHandler(name="readiness-evidence", subjects=[EVIDENCE_EVENTS], handle=on_other_event),
]
