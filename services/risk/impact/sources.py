"""What the impact domain reads from its sibling domains: EU AI Act tiers and the operator role
(classification), and systems with a fundamental-rights risk (register).

Called through this module (``sources.current_tiers(...)``), so that tests can pin the answers.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.risk.classification import queries as classification
from services.risk.classification.models import ClassificationRecord
from services.risk.policy.service import get_policy
from services.risk.register import queries as register


async def current_tiers(
    session: AsyncSession, system_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The current EU AI Act tier of each of ``system_ids`` that has been classified."""
    return await classification.current_tiers(session, list(system_ids))


async def current_roles(
    session: AsyncSession, system_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The organisation's EU AI Act operator role (provider, deployer, …) recorded by each
    system's current classification."""
    if not system_ids:
        return {}
    query = sa.select(ClassificationRecord.system_id, ClassificationRecord.role).where(
        ClassificationRecord.is_current.is_(True),
        ClassificationRecord.system_id.in_(list(system_ids)),
    )
    return {row.system_id: row.role for row in (await session.execute(query)).all()}


async def fundamental_rights_systems(session: AsyncSession) -> set[uuid.UUID]:
    """Systems with at least one (non-closed) risk flagged ``fundamental_rights``."""
    return set(await register.systems_with_fundamental_rights_risks(session))


async def art_27_systems(session: AsyncSession, system_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Systems whose current EU AI Act classification puts the Art. 27(1) fundamental rights
    impact assessment on the organisation (the classification procedure decides who)."""
    return await classification.art_27_systems(session, list(system_ids))


async def full_assessment_policy(session: AsyncSession) -> bool:
    """The organisation's policy setting (not law): a full impact assessment for every
    high-risk system (``require_impact_assessment_for_all_high_risk``)."""
    return (await get_policy(session)).require_impact_assessment_for_all_high_risk
