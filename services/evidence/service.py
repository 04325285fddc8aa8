"""Use cases of the system view: AI systems as the evidence service sees them. Services flush,
never commit. Evidence items, versions and files are in :mod:`services.evidence.items`."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.errors import SystemNotKnown
from services.evidence.items.repository import FileRepository
from services.evidence.models import EvidenceFile
from services.evidence.repository import SystemProjectionRepository
from services.evidence.schemas import EvidenceFileRead, SystemEvidenceRead


async def require_system(session: AsyncSession, system_id: uuid.UUID) -> None:
    if not await SystemProjectionRepository(session).exists(system_id):
        raise SystemNotKnown(
            f"The evidence service has no AI system {system_id} in your organisation "
            "(a system registered moments ago may take a moment to arrive)."
        )


async def list_files(
    session: AsyncSession, system_id: uuid.UUID, *, limit: int, after: uuid.UUID | None
) -> tuple[list[EvidenceFileRead], list[EvidenceFile]]:
    """One page of the files of the items linked to a system, and the rows fetched (one more
    when more follow)."""
    await require_system(session, system_id)
    rows = await FileRepository(session).list_for_system(system_id, limit=limit + 1, after=after)
    return [EvidenceFileRead.model_validate(r) for r in rows[:limit]], rows


async def list_systems(
    session: AsyncSession, *, limit: int, after: uuid.UUID | None, ids: list[uuid.UUID]
) -> tuple[list[SystemEvidenceRead], list[SystemEvidenceRead]]:
    rows = [
        SystemEvidenceRead.model_validate(r)
        for r in await SystemProjectionRepository(session).list_with_summary(
            limit=limit + 1, after=after, ids=ids
        )
    ]
    return rows[:limit], rows


async def get_system(session: AsyncSession, system_id: uuid.UUID) -> SystemEvidenceRead:
    rows = await SystemProjectionRepository(session).list_with_summary(
        limit=1, after=None, ids=[system_id]
    )
    if not rows:
        raise SystemNotKnown(
            f"The evidence service has no AI system {system_id} in your organisation."
        )
    return SystemEvidenceRead.model_validate(rows[0])
