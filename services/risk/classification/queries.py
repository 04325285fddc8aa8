"""Read-only queries other risk domains use (impact assessments, dashboards).

Contract: :func:`current_tiers` maps each classified system to its current EU AI Act tier
(``prohibited`` | ``high`` | ``limited`` | ``minimal``). Systems never classified are absent.
Runs in the caller's tenant-scoped session (row-level security limits it to the caller's org).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from services.risk.classification.procedure import owes_art_27
from services.risk.classification.repository import ClassificationRepository


async def current_tiers(
    session: AsyncSession, system_ids: Sequence[uuid.UUID] | None = None
) -> dict[uuid.UUID, str]:
    """System id → current tier; every classified system of the org when ``system_ids`` is None."""
    return await ClassificationRepository(session).current_tiers(system_ids)


async def art_27_systems(session: AsyncSession, system_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Systems among ``system_ids`` whose current classification puts the Art. 27(1)
    fundamental rights impact assessment on the organisation (the procedure decides who:
    bodies governed by public law, private entities providing public services, deployers of
    Annex III points 5(b)/5(c); never Annex III point 2). A classification stored before
    paragraph-level refs is decided again from its stored answers (:func:`owes_art_27`)."""
    rows = await ClassificationRepository(session).current_with_obligation(system_ids, "27")
    return {row.system_id for row in rows if owes_art_27(row.result, row.answers)}
