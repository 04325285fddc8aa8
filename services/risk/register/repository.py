"""Every query of the risk register. Row-level security scopes each one to the caller's
organisation; the explicit ``org_id`` filters are there for the query planner, not for safety."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from services.risk.register.models import (
    Risk,
    RiskHistory,
    RiskMatrixVersion,
    RiskReviewCadence,
)
from services.risk.register.schemas import Basis
from services.risk.systems.models import SystemProjection


@dataclass(frozen=True)
class RiskFilter:
    """What ``GET /v1/risks`` narrows the register to; empty fields do not filter."""

    org_id: uuid.UUID
    ids: Sequence[uuid.UUID] = ()
    system_ids: Sequence[uuid.UUID] = ()
    inherent_levels: Sequence[str] = ()
    residual_levels: Sequence[str] = ()
    domain_ids: Sequence[str] = ()
    statuses: Sequence[str] = ()
    owner: str | None = None
    above_tolerance: bool | None = None
    review_overdue: bool | None = None
    now: datetime | None = None


def _conditions(filter: RiskFilter) -> list[Any]:
    """The WHERE clauses of ``filter`` (besides the organisation)."""
    out: list[Any] = []
    if filter.ids:
        out.append(Risk.id.in_(filter.ids))
    if filter.system_ids:
        out.append(Risk.system_id.in_(filter.system_ids))
    if filter.inherent_levels:
        out.append(Risk.inherent_level.in_(filter.inherent_levels))
    if filter.residual_levels:
        out.append(Risk.residual_level.in_(filter.residual_levels))
    if filter.domain_ids:
        out.append(Risk.domain_id.in_(filter.domain_ids))
    if filter.statuses:
        out.append(Risk.status.in_(filter.statuses))
    if filter.owner is not None:
        out.append(Risk.owner == filter.owner)
    if filter.above_tolerance is not None:
        out.append(Risk.above_tolerance.is_(filter.above_tolerance))
    if filter.review_overdue is not None:
        overdue = sa.and_(Risk.status != "closed", Risk.next_review_at < filter.now)
        out.append(overdue if filter.review_overdue else sa.not_(overdue))
    return out


class RiskRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- matrices -----------------------------------------------------------------------------

    async def current_matrix(self, org_id: uuid.UUID) -> RiskMatrixVersion | None:
        query = (
            sa.select(RiskMatrixVersion)
            .where(RiskMatrixVersion.org_id == org_id)
            .order_by(RiskMatrixVersion.number.desc())
            .limit(1)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def matrix(self, org_id: uuid.UUID, number: int) -> RiskMatrixVersion | None:
        query = sa.select(RiskMatrixVersion).where(
            RiskMatrixVersion.org_id == org_id, RiskMatrixVersion.number == number
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def matrices(
        self, org_id: uuid.UUID, numbers: Sequence[int] | None = None
    ) -> list[RiskMatrixVersion]:
        query = (
            sa.select(RiskMatrixVersion)
            .where(RiskMatrixVersion.org_id == org_id)
            .order_by(RiskMatrixVersion.number)
        )
        if numbers is not None:
            query = query.where(RiskMatrixVersion.number.in_(numbers))
        return list((await self.session.execute(query)).scalars())

    async def lock_matrices(self, org_id: uuid.UUID) -> None:
        """Serialise matrix changes of one org (a transaction-scoped advisory lock)."""
        await self.session.execute(
            sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"risk_matrix:{org_id}")))
        )

    # --- cadences -----------------------------------------------------------------------------

    async def cadence(
        self, org_id: uuid.UUID, *, for_update: bool = False
    ) -> RiskReviewCadence | None:
        return await self.session.get(RiskReviewCadence, org_id, with_for_update=for_update)

    # --- systems ------------------------------------------------------------------------------

    async def system_known(self, system_id: uuid.UUID) -> bool:
        found = await self.session.execute(
            sa.select(SystemProjection.id).where(SystemProjection.id == system_id)
        )
        return found.first() is not None

    # --- risks --------------------------------------------------------------------------------

    def add(self, row: Risk | RiskHistory | RiskMatrixVersion | RiskReviewCadence) -> None:
        self.session.add(row)

    async def get(
        self, risk_id: uuid.UUID, *, for_update: bool = False, nowait: bool = False
    ) -> Risk | None:
        """The risk; ``nowait`` (timer jobs) fails at once instead of waiting for a lock."""
        lock: bool | dict[str, bool] = {"nowait": True} if nowait else for_update
        return await self.session.get(Risk, risk_id, with_for_update=lock)

    async def page(self, filter: RiskFilter, *, limit: int, after: uuid.UUID | None) -> list[Risk]:
        query = (
            sa.select(Risk)
            .where(Risk.org_id == filter.org_id, *_conditions(filter))
            .order_by(Risk.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(Risk.id > after)
        return list((await self.session.execute(query)).scalars())

    async def by_system(self, filter: RiskFilter, *, first: int) -> list[tuple[Risk, int]]:
        """For each of ``filter.system_ids``, its first ``first`` risks matching the filter
        (oldest first) and how many match, in one query: ``(risk, total)`` rows ordered by
        system and position; a system without matching risks is absent."""
        ranked = (
            sa.select(
                Risk.id.label("risk_id"),
                sa.func.row_number()
                .over(partition_by=Risk.system_id, order_by=Risk.id)
                .label("position"),
                sa.func.count().over(partition_by=Risk.system_id).label("total"),
            )
            .where(Risk.org_id == filter.org_id, *_conditions(filter))
            .subquery()
        )
        query = (
            sa.select(Risk, ranked.c.total)
            .join(ranked, Risk.id == ranked.c.risk_id)
            .where(ranked.c.position <= first)
            .order_by(Risk.system_id, ranked.c.position)
        )
        return [(risk, int(total)) for risk, total in (await self.session.execute(query)).all()]

    async def open_risks(self, org_id: uuid.UUID, *, for_update: bool) -> list[Risk]:
        query = (
            sa.select(Risk).where(Risk.org_id == org_id, Risk.status != "closed").order_by(Risk.id)
        )
        if for_update:
            query = query.with_for_update()
        return list((await self.session.execute(query)).scalars())

    async def open_risks_of_system(self, system_id: uuid.UUID) -> list[Risk]:
        """The system's risks that are not closed (any status but ``closed``)."""
        query = (
            sa.select(Risk)
            .where(Risk.system_id == system_id, Risk.status != "closed")
            .order_by(Risk.id)
        )
        return list((await self.session.execute(query)).scalars())

    async def system(self, system_id: uuid.UUID) -> SystemProjection | None:
        return await self.session.get(SystemProjection, system_id)

    async def risks_to_review(self, system_id: uuid.UUID) -> list[Risk]:
        """The system's risks that a change of its facts sends back for review (locked)."""
        query = (
            sa.select(Risk)
            .where(Risk.system_id == system_id, Risk.status.not_in(("closed", "review_due")))
            .order_by(Risk.id)
            .with_for_update()
        )
        return list((await self.session.execute(query)).scalars())

    async def history(
        self, risk_id: uuid.UUID, *, limit: int, after: int | None
    ) -> list[RiskHistory]:
        query = (
            sa.select(RiskHistory)
            .where(RiskHistory.risk_id == risk_id)
            .order_by(RiskHistory.version)
            .limit(limit)
        )
        if after is not None:
            query = query.where(RiskHistory.version > after)
        return list((await self.session.execute(query)).scalars())

    async def past_owners(self, risk_id: uuid.UUID) -> list[str]:
        """Every owner the risk has had, as its history's states record them."""
        owner = RiskHistory.state["owner"].astext
        query = (
            sa.select(owner).where(RiskHistory.risk_id == risk_id, owner.is_not(None)).distinct()
        )
        return [str(o) for o in (await self.session.execute(query)).scalars()]

    async def summaries(
        self, org_id: uuid.UUID, system_ids: Sequence[uuid.UUID]
    ) -> list[sa.Row[Any]]:
        """Per system in one query: non-closed risks and the highest residual level among them.

        A risk not yet scored for residual counts with its inherent level (untreated, the
        residual risk is the inherent one).
        """
        rank = sa.func.coalesce(Risk.residual_rank, Risk.inherent_rank)
        level = sa.func.coalesce(Risk.residual_level, Risk.inherent_level)
        query = (
            sa.select(
                Risk.system_id,
                sa.func.count().label("open_count"),
                sa.func.array_agg(aggregate_order_by(level, rank.desc()))[1].label("highest"),
            )
            .where(
                Risk.org_id == org_id,
                Risk.system_id.in_(system_ids),
                Risk.status != "closed",
            )
            .group_by(Risk.system_id)
        )
        return list(await self.session.execute(query))

    async def dashboard(self, org_id: uuid.UUID, basis: Basis) -> list[sa.Row[Any]]:
        """Counts per cell, level, domain and system in one scan (GROUP BY GROUPING SETS)."""
        if basis is Basis.INHERENT:
            likelihood: Any = Risk.likelihood
            severity: Any = Risk.severity
            level: Any = Risk.inherent_level
        else:
            likelihood = sa.func.coalesce(Risk.residual_likelihood, Risk.likelihood)
            severity = sa.func.coalesce(Risk.residual_severity, Risk.severity)
            level = sa.func.coalesce(Risk.residual_level, Risk.inherent_level)
        query = (
            sa.select(
                sa.func.grouping(likelihood, severity, level, Risk.domain_id, Risk.system_id).label(
                    "g"
                ),
                likelihood.label("likelihood"),
                severity.label("severity"),
                level.label("level"),
                Risk.domain_id,
                Risk.system_id,
                sa.func.count().label("n"),
            )
            .where(Risk.org_id == org_id, Risk.status != "closed")
            .group_by(
                sa.func.grouping_sets(
                    sa.tuple_(likelihood, severity),
                    sa.tuple_(level),
                    sa.tuple_(Risk.domain_id),
                    sa.tuple_(Risk.system_id),
                )
            )
        )
        return list(await self.session.execute(query))
