"""Every query of impact assessments. Row-level security scopes each one to the caller's org."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from services.risk.impact.models import ImpactAssessment, ImpactAssessmentChange
from services.risk.systems.models import SystemProjection


class ImpactAssessmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(
        self, assessment_id: uuid.UUID, *, for_update: bool = False
    ) -> ImpactAssessment | None:
        query = sa.select(ImpactAssessment).where(ImpactAssessment.id == assessment_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def page(
        self,
        *,
        limit: int,
        after: uuid.UUID | None,
        ids: Sequence[uuid.UUID] = (),
        system_ids: Sequence[uuid.UUID] = (),
        statuses: Sequence[str] = (),
    ) -> list[ImpactAssessment]:
        query = sa.select(ImpactAssessment).order_by(ImpactAssessment.id).limit(limit)
        if after is not None:
            query = query.where(ImpactAssessment.id > after)
        if ids:
            query = query.where(ImpactAssessment.id.in_(ids))
        if system_ids:
            query = query.where(ImpactAssessment.system_id.in_(system_ids))
        if statuses:
            query = query.where(ImpactAssessment.status.in_(statuses))
        return list((await self.session.execute(query)).scalars())

    async def approved_for_update(self, system_id: uuid.UUID) -> ImpactAssessment | None:
        query = (
            sa.select(ImpactAssessment)
            .where(ImpactAssessment.system_id == system_id, ImpactAssessment.status == "approved")
            .with_for_update()
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def approved_of(
        self, system_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, ImpactAssessment]:
        if not system_ids:
            return {}
        query = sa.select(ImpactAssessment).where(
            ImpactAssessment.system_id.in_(system_ids), ImpactAssessment.status == "approved"
        )
        return {a.system_id: a for a in (await self.session.execute(query)).scalars()}

    async def latest_of(
        self, system_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[uuid.UUID, str]]:
        """The newest assessment (id, status) of each system that has one."""
        if not system_ids:
            return {}
        query = (
            sa.select(ImpactAssessment.system_id, ImpactAssessment.id, ImpactAssessment.status)
            .where(ImpactAssessment.system_id.in_(system_ids))
            .ext(distinct_on(ImpactAssessment.system_id))
            .order_by(ImpactAssessment.system_id, ImpactAssessment.id.desc())
        )
        return {row[0]: (row[1], row[2]) for row in (await self.session.execute(query)).all()}

    def add(self, assessment: ImpactAssessment) -> None:
        self.session.add(assessment)

    def add_change(self, change: ImpactAssessmentChange) -> None:
        self.session.add(change)

    async def history(
        self, assessment_id: uuid.UUID, *, limit: int, before_version: int | None
    ) -> list[ImpactAssessmentChange]:
        """Changes of one assessment, newest first."""
        query = sa.select(ImpactAssessmentChange).where(
            ImpactAssessmentChange.assessment_id == assessment_id
        )
        if before_version is not None:
            query = query.where(ImpactAssessmentChange.version < before_version)
        query = query.order_by(ImpactAssessmentChange.version.desc()).limit(limit)
        return list((await self.session.execute(query)).scalars())

    # --- Systems -------------------------------------------------------------------------------

    async def system(self, system_id: uuid.UUID) -> SystemProjection | None:
        return await self.session.get(SystemProjection, system_id)

    async def live_systems(self, *, limit: int, after: uuid.UUID | None) -> list[SystemProjection]:
        """Systems the AIMS manages: not retired, not excluded from scope; by id."""
        query = (
            sa.select(SystemProjection)
            .where(
                SystemProjection.lifecycle_stage != "retired",
                sa.or_(SystemProjection.in_scope.is_(None), SystemProjection.in_scope.is_(True)),
            )
            .order_by(SystemProjection.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(SystemProjection.id > after)
        return list((await self.session.execute(query)).scalars())
