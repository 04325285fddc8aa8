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
