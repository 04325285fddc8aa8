"""Every query of the Statement of Applicability. Row-level security scopes each one to the
caller's organisation."""

from __future__ import annotations

import uuid
from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.risk.register.models import Risk
from services.risk.soa.models import SoAEntry, SoAVersion
from services.risk.soa.schemas import VersionStatus
from services.risk.systems.models import OrganisationAIRolesProjection, SystemProjection


class SoAEntryRepository:
    """The working SoA: one entry per Annex A control that was proposed or decided."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_control(self, *, for_update: bool = False) -> dict[str, SoAEntry]:
        """Every stored entry, by control id."""
        query = sa.select(SoAEntry)
        if for_update:
            query = query.with_for_update()
        return {row.control_id: row for row in (await self.session.execute(query)).scalars()}

    async def get(self, control_id: str, *, for_update: bool = False) -> SoAEntry | None:
        query = sa.select(SoAEntry).where(SoAEntry.control_id == control_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    def add(self, entry: SoAEntry) -> None:
        self.session.add(entry)


class SoAVersionRepository:
    """Frozen copies of the SoA: drafts, the approved one, the superseded ones."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_organisation(self, org_id: uuid.UUID) -> None:
        """Serialise the org's SoA version changes (numbering, one approved version)."""
        await self.session.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"soa:{org_id}"},
        )

    async def last_number(self) -> int | None:
        return (await self.session.execute(sa.select(sa.func.max(SoAVersion.number)))).scalar()

    async def by_number(self, number: int, *, for_update: bool = False) -> SoAVersion | None:
        return await self._one(SoAVersion.number == number, for_update=for_update)

    async def by_id(self, version_id: uuid.UUID, *, for_update: bool = False) -> SoAVersion | None:
        return await self._one(SoAVersion.id == version_id, for_update=for_update)

    async def approved(self, *, for_update: bool = False) -> SoAVersion | None:
        return await self._one(
            SoAVersion.status == VersionStatus.APPROVED.value, for_update=for_update
        )

    async def _one(
        self, condition: sa.ColumnElement[bool], *, for_update: bool
    ) -> SoAVersion | None:
        query = sa.select(SoAVersion).where(condition)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def page(
        self, *, limit: int, before_number: int | None, status: str | None
    ) -> list[SoAVersion]:
        """Newest first; ``limit`` versions numbered below ``before_number``."""
        query = sa.select(SoAVersion).order_by(SoAVersion.number.desc()).limit(limit)
        if before_number is not None:
            query = query.where(SoAVersion.number < before_number)
        if status is not None:
            query = query.where(SoAVersion.status == status)
        return list((await self.session.execute(query)).scalars())

    def add(self, version: SoAVersion) -> None:
        self.session.add(version)


class SoAInputRepository:
    """What the SoA reads of its peer domains in this service: the systems' AI roles and data
    inputs (to propose defaults) and the register's treatments (to flag gaps)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def in_scope_live_systems(self, live_stages: Collection[str]) -> list[SystemProjection]:
        """Systems in the approved scope whose lifecycle stage is one of ``live_stages``."""
        rows = await self.session.execute(
            sa.select(SystemProjection)
            .where(
                SystemProjection.in_scope.is_(True),
                SystemProjection.lifecycle_stage.in_(list(live_stages)),
            )
            .order_by(SystemProjection.id)
        )
        return list(rows.scalars())

    async def organisation_roles(self) -> list[str] | None:
        """The organisation-level AI roles the inventory holds (None until first set)."""
        roles = await self.session.scalar(sa.select(OrganisationAIRolesProjection.roles))
        return list(roles) if roles is not None else None

    async def treated_risks_without_control(self) -> list[uuid.UUID]:
        """Non-closed risks with a treatment chosen but no Annex A control named (the register's
        ``risk`` table: treatment set, ``control_ids`` empty, status not closed)."""
        rows = await self.session.execute(
            sa.select(Risk.id)
            .where(
                Risk.status != "closed",
                Risk.treatment.is_not(None),
                sa.func.jsonb_array_length(Risk.control_ids) == 0,
            )
            .order_by(Risk.id)
        )
        return [r for (r,) in rows]
