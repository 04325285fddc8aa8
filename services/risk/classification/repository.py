"""Every query of EU AI Act classifications. Row-level security scopes each one to the caller's
organisation."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.risk.classification.models import ClassificationRecord
from services.risk.systems.models import SystemProjection


class ClassificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def system(
        self, system_id: uuid.UUID, *, for_update: bool = False
    ) -> SystemProjection | None:
        """The risk service's copy of a registered system."""
        if for_update:
            return await self.session.get(SystemProjection, system_id, with_for_update=True)
        return await self.session.get(SystemProjection, system_id)

    async def last_version(self, system_id: uuid.UUID) -> int | None:
        return (
            await self.session.execute(
                sa.select(sa.func.max(ClassificationRecord.version)).where(
                    ClassificationRecord.system_id == system_id
                )
            )
        ).scalar_one_or_none()

    async def retire_current(self, system_id: uuid.UUID) -> None:
        """The system's current classification stops being current (it stays in the history)."""
        await self.session.execute(
            sa.update(ClassificationRecord)
            .where(ClassificationRecord.system_id == system_id, ClassificationRecord.is_current)
            .values(is_current=False)
        )

    def add(self, record: ClassificationRecord) -> None:
        self.session.add(record)

    async def current(
        self, system_id: uuid.UUID, *, for_update: bool = False
    ) -> ClassificationRecord | None:
        query = sa.select(ClassificationRecord).where(
            ClassificationRecord.system_id == system_id, ClassificationRecord.is_current
        )
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def history(
        self, system_id: uuid.UUID, *, limit: int, before_version: int | None
    ) -> list[ClassificationRecord]:
        """Newest first; ``limit`` rows older than ``before_version``."""
        query = (
            sa.select(ClassificationRecord)
            .where(ClassificationRecord.system_id == system_id)
            .order_by(ClassificationRecord.version.desc())
            .limit(limit)
        )
        if before_version is not None:
            query = query.where(ClassificationRecord.version < before_version)
        return list((await self.session.execute(query)).scalars())

    async def current_of(self, system_ids: Sequence[uuid.UUID]) -> list[ClassificationRecord]:
        """Current classifications of ``system_ids`` by system id (none if never classified)."""
        if not system_ids:
            return []
        query = (
            sa.select(ClassificationRecord)
            .where(
                ClassificationRecord.system_id.in_(list(system_ids)),
                ClassificationRecord.is_current,
            )
            .order_by(ClassificationRecord.system_id)
        )
        return list((await self.session.execute(query)).scalars())

    async def current_summaries_of(self, system_ids: Sequence[uuid.UUID]) -> list[sa.Row[Any]]:
        """What a summary of the current classifications of ``system_ids`` needs, by system id:
        the row's columns and the result's ``tier``, ``route`` and ``articles`` (the stored
        answers and the rest of the result are not read)."""
        if not system_ids:
            return []
        record = ClassificationRecord
        query = (
            sa.select(
                record.id,
                record.system_id,
                record.version,
                record.is_current,
                record.role,
                record.result["tier"].astext.label("tier"),
                record.result["route"].astext.label("route"),
                record.result["articles"].label("articles"),
                record.classified_at,
                record.classified_by,
                record.reclassification_requested_at,
                record.reclassification_facts,
            )
            .where(record.system_id.in_(list(system_ids)), record.is_current)
            .order_by(record.system_id)
        )
        return list((await self.session.execute(query)).all())

    async def current_tiers(
        self, system_ids: Sequence[uuid.UUID] | None = None
    ) -> dict[uuid.UUID, str]:
        """System id → current tier; every classified system when ``system_ids`` is None."""
        query = sa.select(ClassificationRecord.system_id, ClassificationRecord.tier).where(
            ClassificationRecord.is_current.is_(True)
        )
        if system_ids is not None:
            if not system_ids:
                return {}
            query = query.where(ClassificationRecord.system_id.in_(list(system_ids)))
        rows = (await self.session.execute(query)).all()
        return {row.system_id: row.tier for row in rows}

    async def current_with_obligation(
        self, system_ids: Sequence[uuid.UUID], article: str
    ) -> list[ClassificationRecord]:
        """Current classifications of ``system_ids`` that list an obligation of ``article``
        (e.g. ``27``), whatever its paragraph."""
        if not system_ids:
            return []
        query = sa.select(ClassificationRecord).where(
            ClassificationRecord.is_current.is_(True),
            ClassificationRecord.system_id.in_(list(system_ids)),
            ClassificationRecord.result["obligations"].contains([{"article": article}]),
        )
        return list((await self.session.execute(query)).scalars())

    async def needing_classification(
        self, *, limit: int, after: uuid.UUID | None
    ) -> list[tuple[SystemProjection, ClassificationRecord | None]]:
        """Systems never classified (with None) or whose current classification asks for
        reclassification (with it), in system id order."""
        current_rows = sa.orm.aliased(ClassificationRecord)
        query = (
            sa.select(SystemProjection, current_rows)
            .outerjoin(
                current_rows,
                sa.and_(
                    current_rows.system_id == SystemProjection.id,
                    current_rows.is_current.is_(True),
                ),
            )
            .where(
                sa.or_(
                    current_rows.id.is_(None),
                    current_rows.reclassification_requested_at.is_not(None),
                )
            )
            .order_by(SystemProjection.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(SystemProjection.id > after)
        return [(system, record) for system, record in (await self.session.execute(query)).all()]
