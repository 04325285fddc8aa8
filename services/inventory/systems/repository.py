"""Every inventory query. Row-level security scopes each one to the caller's organisation;
the explicit ``org_id`` filters are there for the query planner, not for safety."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.systems.models import AISystem


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class AISystemRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, system_id: uuid.UUID, *, for_update: bool = False) -> AISystem | None:
        query = sa.select(AISystem).where(AISystem.id == system_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def list(
        self,
        *,
        limit: int,
        after: uuid.UUID | None = None,
        name_contains: str | None = None,
        ids: Sequence[uuid.UUID] = (),
    ) -> list[AISystem]:
        query = sa.select(AISystem).order_by(AISystem.id).limit(limit)
        if after is not None:
            query = query.where(AISystem.id > after)
        if name_contains:
            query = query.where(AISystem.name.ilike(_like_pattern(name_contains), escape="\\"))
        if ids:
            query = query.where(AISystem.id.in_(ids))
        return list((await self.session.execute(query)).scalars())

    def add(self, system: AISystem) -> None:
        self.session.add(system)
