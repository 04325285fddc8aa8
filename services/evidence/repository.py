"""Every evidence query. Row-level security scopes each one to the caller's organisation."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.items.models import EvidenceItem, EvidenceLink
from services.evidence.models import EvidenceFile, SystemProjection


class SystemProjectionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def exists(self, system_id: uuid.UUID) -> bool:
        query = sa.select(sa.literal(True)).where(SystemProjection.id == system_id)
        return (await self.session.execute(query)).first() is not None

    async def list_with_summary(
        self, *, limit: int, after: uuid.UUID | None, ids: Sequence[uuid.UUID]
    ) -> list[dict[str, Any]]:
        """Systems with their evidence summary (the files of the items linked to each, deleted
        items aside), in one query whatever the page size."""
        # A file belongs to one item and an item links to a system once: each file counts once.
        summary = (
            sa.select(
                sa.func.count(EvidenceFile.id).label("file_count"),
                sa.func.coalesce(sa.func.sum(EvidenceFile.size_bytes), 0).label("total_bytes"),
            )
            .select_from(EvidenceLink)
            .join(EvidenceItem, EvidenceItem.id == EvidenceLink.item_id)
            .join(EvidenceFile, EvidenceFile.item_id == EvidenceItem.id)
            .where(
                EvidenceLink.target_type == "system",
                EvidenceLink.target_id == sa.cast(SystemProjection.id, sa.Text),
                EvidenceItem.deleted_at.is_(None),
            )
            .lateral("summary")
        )
        query = (
            sa.select(SystemProjection, summary.c.file_count, summary.c.total_bytes)
            .join(summary, sa.true())
            .order_by(SystemProjection.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(SystemProjection.id > after)
        if ids:
            query = query.where(SystemProjection.id.in_(ids))
        rows = (await self.session.execute(query)).all()
        return [
            {
                **{c.key: getattr(system, c.key) for c in SystemProjection.__table__.columns},
                "file_count": int(file_count),
                "total_bytes": int(total_bytes),
            }
            for system, file_count, total_bytes in rows
        ]
