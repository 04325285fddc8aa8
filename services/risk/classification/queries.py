"""Read-only queries other risk domains use (impact assessments, dashboards).

Contract: :func:`current_tiers` maps each classified system to its current EU AI Act tier
(``prohibited`` | ``high`` | ``limited`` | ``minimal``). Systems never classified are absent.
Runs in the caller's tenant-scoped session (row-level security limits it to the caller's org).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from services.risk.classification.repository import ClassificationRepository


async def current_tiers(
    session: AsyncSession, system_ids: Sequence[uuid.UUID] | None = None
) -> dict[uuid.UUID, str]:
    """System id → current tier; every classified system of the org when ``system_ids`` is None."""
    return await ClassificationRepository(session).current_tiers(system_ids)
