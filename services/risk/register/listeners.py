"""The register's reaction to changed system facts (imported by ``api.py`` to register it)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.risk.register.service import mark_for_review
from services.risk.systems.hooks import on_facts_changed
from services.risk.systems.models import SystemProjection


@on_facts_changed
async def risks_due_for_review(
    session: AsyncSession, system: SystemProjection, changed: frozenset[str]
) -> None:
    await mark_for_review(session, system, changed)
