"""What the register handles: the risk service's classifications, mirrored read-only."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.systems.repository import AISystemRepository
from services.inventory.systems.schemas import ClassificationData
from shared.events.consumer import EventHandler
from shared.events.envelope import CloudEvent

CLASSIFIED = "aims.risk.system.classified"


async def mirror_classification(session: AsyncSession, event: CloudEvent) -> None:
    """Keep ``eu_ai_act_tier`` and ``risk_level`` of the system the event names.

    Applied only when newer than the classification held (``dataversion``), so events arriving
    late or twice change nothing. The system's own version does not move: the classification is
    the risk service's fact, and announcing it again as ``system.updated`` would echo back.
    An event about a system the register does not (or no longer) know is ignored.
    """
    data = ClassificationData.model_validate(event.data)
    await AISystemRepository(session).apply_classification(
        data.system_id,
        tier=data.tier.value if data.tier else None,
        risk_level=data.risk_level,
        version=event.dataversion,
    )


HANDLERS = [
    EventHandler(name="risk-classification", subjects=[CLASSIFIED], handle=mirror_classification)
]
