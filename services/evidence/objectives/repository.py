"""Every query of the objectives domain. Row-level security scopes each one to the caller's org."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.objectives.models import Objective, ObjectiveMeasurement


class ObjectiveRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, row: object) -> None:
        self.session.add(row)

    async def get(
        self, objective_id: uuid.UUID, *, for_update: bool = False, nowait: bool = False
    ) -> Objective | None:
        query = sa.select(Objective).where(Objective.id == objective_id)
        if for_update:
            query = query.with_for_update(nowait=nowait)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def page(
        self,
        *,
        limit: int,
        after: uuid.UUID | None,
        ids: Sequence[uuid.UUID] = (),
        statuses: Sequence[str] = (),
        owner: str | None = None,
        off_target: bool | None = None,
        due_before: date | None = None,
    ) -> list[Objective]:
        query = sa.select(Objective).order_by(Objective.id).limit(limit)
        if after is not None:
            query = query.where(Objective.id > after)
        if ids:
            query = query.where(Objective.id.in_(ids))
        if statuses:
            query = query.where(Objective.status.in_(statuses))
        if owner is not None:
            query = query.where(Objective.owner == owner)
        if off_target is True:
            query = query.where(Objective.on_target.is_(False))
        elif off_target is False:
            # Not off target: on target, or not measured yet.
            query = query.where(Objective.on_target.is_not(False))
        if due_before is not None:
            query = query.where(Objective.due_date < due_before)
        return list((await self.session.execute(query)).scalars())

    async def latest_measurement(self, objective_id: uuid.UUID) -> ObjectiveMeasurement | None:
        """The measurement with the latest date; on one day, the one recorded last (ids are
        time-ordered)."""
        query = (
            sa.select(ObjectiveMeasurement)
            .where(ObjectiveMeasurement.objective_id == objective_id)
            .order_by(ObjectiveMeasurement.measured_on.desc(), ObjectiveMeasurement.id.desc())
            .limit(1)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def measurements(
        self,
        objective_id: uuid.UUID,
        *,
        limit: int,
        after: tuple[date, uuid.UUID] | None,
        since: date | None = None,
        until: date | None = None,
    ) -> list[ObjectiveMeasurement]:
        """Measurements in time order: ``measured_on``, then recording order."""
        query = (
            sa.select(ObjectiveMeasurement)
            .where(ObjectiveMeasurement.objective_id == objective_id)
            .order_by(ObjectiveMeasurement.measured_on, ObjectiveMeasurement.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(
                sa.tuple_(ObjectiveMeasurement.measured_on, ObjectiveMeasurement.id)
                > sa.tuple_(sa.literal(after[0]), sa.literal(after[1]))
            )
        if since is not None:
            query = query.where(ObjectiveMeasurement.measured_on >= since)
        if until is not None:
            query = query.where(ObjectiveMeasurement.measured_on <= until)
        return list((await self.session.execute(query)).scalars())

    async def latest_measurements(
        self, objective_ids: Sequence[uuid.UUID], *, last: int
    ) -> list[ObjectiveMeasurement]:
        """The latest ``last`` measurements of each of ``objective_ids`` in one query, in time
        order per objective (by objective, then ``measured_on``, then recording order)."""
        rank = (
            sa.func.row_number()
            .over(
                partition_by=ObjectiveMeasurement.objective_id,
                order_by=(ObjectiveMeasurement.measured_on.desc(), ObjectiveMeasurement.id.desc()),
            )
            .label("rank")
        )
        ranked = (
            sa.select(ObjectiveMeasurement.id, rank)
            .where(ObjectiveMeasurement.objective_id.in_(objective_ids))
            .subquery()
        )
        query = (
            sa.select(ObjectiveMeasurement)
            .join(ranked, ranked.c.id == ObjectiveMeasurement.id)
            .where(ranked.c.rank <= last)
            .order_by(
                ObjectiveMeasurement.objective_id,
                ObjectiveMeasurement.measured_on,
                ObjectiveMeasurement.id,
            )
        )
        return list((await self.session.execute(query)).scalars())

    async def first_measurements(
        self,
        objective_ids: Sequence[uuid.UUID],
        *,
        limit: int,
        since: date | None = None,
        until: date | None = None,
    ) -> list[ObjectiveMeasurement]:
        """The first ``limit`` measurements from ``since`` to ``until`` of each of
        ``objective_ids`` in one query, in time order per objective (by objective, then
        ``measured_on``, then recording order)."""
        rank = (
            sa.func.row_number()
            .over(
                partition_by=ObjectiveMeasurement.objective_id,
                order_by=(ObjectiveMeasurement.measured_on, ObjectiveMeasurement.id),
            )
            .label("rank")
        )
        ranked = sa.select(ObjectiveMeasurement.id, rank).where(
            ObjectiveMeasurement.objective_id.in_(objective_ids)
        )
        if since is not None:
            ranked = ranked.where(ObjectiveMeasurement.measured_on >= since)
        if until is not None:
            ranked = ranked.where(ObjectiveMeasurement.measured_on <= until)
        inner = ranked.subquery()
        query = (
            sa.select(ObjectiveMeasurement)
            .join(inner, inner.c.id == ObjectiveMeasurement.id)
            .where(inner.c.rank <= limit)
            .order_by(
                ObjectiveMeasurement.objective_id,
                ObjectiveMeasurement.measured_on,
                ObjectiveMeasurement.id,
            )
        )
        return list((await self.session.execute(query)).scalars())

    # --- As of a past moment (management review inputs) ------------------------------------------

    async def existing_at(self, moment: datetime, *, limit: int) -> list[Objective]:
        """Objectives created before ``moment``, by id (the oldest ``limit``)."""
        query = (
            sa.select(Objective)
            .where(Objective.created_at < moment)
            .order_by(Objective.id)
            .limit(limit)
        )
        return list((await self.session.execute(query)).scalars())

    async def count_existing_at(self, moment: datetime) -> int:
        query = sa.select(sa.func.count()).where(Objective.created_at < moment)
        return int((await self.session.execute(query)).scalar_one())

    async def latest_values_at(
        self, objective_ids: Sequence[uuid.UUID], day: date
    ) -> dict[uuid.UUID, tuple[float, date]]:
        """Per objective, the latest measurement dated on or before ``day`` (a value measured
        then counts even when it was entered later): its value and date."""
        if not objective_ids:
            return {}
        query = (
            sa.select(
                ObjectiveMeasurement.objective_id,
                ObjectiveMeasurement.value,
                ObjectiveMeasurement.measured_on,
            )
            .where(
                ObjectiveMeasurement.objective_id.in_(objective_ids),
                ObjectiveMeasurement.measured_on <= day,
            )
            .ext(distinct_on(ObjectiveMeasurement.objective_id))
            .order_by(
                ObjectiveMeasurement.objective_id,
                ObjectiveMeasurement.measured_on.desc(),
                ObjectiveMeasurement.id.desc(),
            )
        )
        return {
            objective_id: (value, measured_on)
            for objective_id, value, measured_on in (await self.session.execute(query)).all()
        }
