"""Reading the risk service's copy of the registered AI systems (the projection is written only
by the inventory's events, in consumers.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from services.risk.systems.errors import SystemNotKnown
from services.risk.systems.models import SystemProjection
from services.risk.systems.repository import SystemProjectionRepository
from services.risk.systems.schemas import SystemProjectionRead


async def list_systems(
    session: AsyncSession, *, limit: int, after: uuid.UUID | None, ids: Sequence[uuid.UUID]
) -> tuple[list[SystemProjectionRead], list[SystemProjection]]:
    """One page of systems, and the rows fetched (one more than the page when more follow)."""
    rows = await SystemProjectionRepository(session).list(limit=limit + 1, after=after, ids=ids)
    return [SystemProjectionRead.model_validate(r) for r in rows[:limit]], rows


async def get_system(session: AsyncSession, system_id: uuid.UUID) -> SystemProjectionRead:
    row = await SystemProjectionRepository(session).get(system_id)
    if row is None:
        raise SystemNotKnown(f"The risk service has no AI system {system_id} in your organisation.")
    return SystemProjectionRead.model_validate(row)
