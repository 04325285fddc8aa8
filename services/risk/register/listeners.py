"""The register's reactions to systems' changed facts and review dates (imported by ``api.py``
to register them)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.risk.register.service import mark_for_review, track_system_review_date
from services.risk.systems.hooks import on_facts_changed, on_review_date
from services.risk.systems.models import SystemProjection


@on_facts_changed
async def risks_due_for_review(
    session: AsyncSession, system: SystemProjection, changed: frozenset[str]
) -> None:
    await mark_for_review(session, system, changed)


@on_review_date
async def system_review_timer(
    session: AsyncSession, system: SystemProjection, review_on: date | None
) -> None:
    await track_system_review_date(session, system, review_on)
