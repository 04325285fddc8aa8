"""Every query of the AIMS scope (4.3). Row-level security scopes each one to the caller's
organisation."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.components.models import Component
from services.inventory.scope.checks import SystemFacts
from services.inventory.scope.models import ScopeVersion
from services.inventory.scope.schemas import ScopeStatus
from services.inventory.systems.models import AISystem


class ScopeVersionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_organisation(self, org_id: uuid.UUID) -> None:
        """Serialise numbering and approval within one organisation (held until commit)."""
        await self.session.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"aims.scope:{org_id}"},
        )

    async def get(self, version_id: uuid.UUID, *, for_update: bool = False) -> ScopeVersion | None:
        query = sa.select(ScopeVersion).where(ScopeVersion.id == version_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def approved(self, *, for_update: bool = False) -> ScopeVersion | None:
        """The organisation's current (approved) scope version, if any."""
        query = sa.select(ScopeVersion).where(ScopeVersion.status == ScopeStatus.APPROVED.value)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def last_number(self) -> int | None:
        return (await self.session.execute(sa.select(sa.func.max(ScopeVersion.number)))).scalar()

    async def page(
        self,
        *,
        limit: int,
        after: uuid.UUID | None,
        status: ScopeStatus | None = None,
        ids: list[uuid.UUID] | None = None,
    ) -> list[ScopeVersion]:
        query = sa.select(ScopeVersion).order_by(ScopeVersion.id).limit(limit)
        if ids:
            query = query.where(ScopeVersion.id.in_(ids))
        if after is not None:
            query = query.where(ScopeVersion.id > after)
        if status is not None:
            query = query.where(ScopeVersion.status == status.value)
        return list((await self.session.execute(query)).scalars())

    def add(self, version: ScopeVersion) -> None:
        self.session.add(version)


class ScopedSystemRepository:
    """The registered systems and components as the scope reads and flags them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def facts(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, SystemFacts]:
        """What the approval rules read of each of ``ids`` that is registered."""
        if not ids:
            return {}
        rows = await self.session.execute(
            sa.select(
                AISystem.id,
                AISystem.name,
                AISystem.owner,
                AISystem.sector,
                AISystem.eu_ai_act_tier,
            ).where(AISystem.id.in_(list(ids)))
        )
        return {
            r.id: SystemFacts(
                id=r.id,
                name=r.name,
                owner=r.owner,
                sector=r.sector,
                eu_ai_act_tier=r.eu_ai_act_tier,
            )
            for r in rows
        }

    async def systems_of_components(
        self, component_ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, uuid.UUID | None]:
        """Component id → the system it belongs to (None for a shared component)."""
        if not component_ids:
            return {}
        found = await self.session.execute(
            sa.select(Component.id, Component.system_id).where(
                Component.id.in_(list(component_ids))
            )
        )
        return {r.id: r.system_id for r in found}

    async def set_in_scope(self, systems_in: Sequence[uuid.UUID]) -> list[tuple[uuid.UUID, bool]]:
        """Every system of the organisation: in scope when listed, else out. Returns the systems
        whose flag changed, with their new flag, in id order."""
        inside = AISystem.id.in_(list(systems_in)) if systems_in else sa.false()
        changed = await self.session.execute(
            sa.update(AISystem)
            .where(AISystem.in_scope.is_distinct_from(inside))
            .values(in_scope=inside)
            .returning(AISystem.id, AISystem.in_scope)
            .execution_options(synchronize_session=False)
        )
        return sorted((row.id, bool(row.in_scope)) for row in changed)

    async def count(self) -> int:
        """How many systems the organisation's register holds."""
        return int((await self.session.execute(sa.select(sa.func.count(AISystem.id)))).scalar_one())
