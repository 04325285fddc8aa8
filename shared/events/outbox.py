"""The transactional outbox: an event is a row written in the same transaction as the change."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import outbox_table, utcnow
from shared.events.envelope import CloudEvent


async def emit(session: AsyncSession, event: CloudEvent) -> None:
    """Queue ``event`` for publication; it is sent only if the surrounding transaction commits."""
    await session.execute(
        outbox_table.insert().values(
            event_id=uuid.UUID(event.id),
            org_id=uuid.UUID(event.orgid) if event.orgid else None,
            type=event.type,
            subject=event.type,
            envelope=event.model_dump(mode="json"),
            created_at=utcnow(),
            attempts=0,
        )
    )
