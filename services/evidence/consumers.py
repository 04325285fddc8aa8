"""Events the evidence service handles."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.models import SystemProjection
from services.evidence.schemas import InventorySystem
from shared.db import utcnow
from shared.events import CloudEvent
from shared.events.consumer import EventHandler
from shared.projections import upsert_if_newer


async def apply_system_event(session: AsyncSession, event: CloudEvent) -> None:
    system = InventorySystem.model_validate(event.data)
    await upsert_if_newer(
        session,
        SystemProjection,
        {
            "id": system.id,
            "org_id": system.org_id,
            "name": system.name,
            "lifecycle_stage": system.lifecycle_stage,
            "business_function": system.business_function,
            "owner": system.owner,
            "source_version": event.dataversion,
            "synced_at": utcnow(),
        },
    )


HANDLERS = [
    EventHandler(name="systems", subjects=["aims.inventory.system.>"], handle=apply_system_event),
]
