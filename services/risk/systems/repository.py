from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.risk.systems.models import SystemProjection


class SystemProjectionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, system_id: uuid.UUID) -> SystemProjection | None:
        return await self.session.get(SystemProjection, system_id)

    async def list(
        self, *, limit: int, after: uuid.UUID | None, ids: Sequence[uuid.UUID]
    ) -> list[SystemProjection]:
        query = sa.select(SystemProjection).order_by(SystemProjection.id).limit(limit)
        if after is not None:
            query = query.where(SystemProjection.id > after)
        if ids:
            query = query.where(SystemProjection.id.in_(ids))
        return list((await self.session.execute(query)).scalars())
