"""Every query of the nonconformity and corrective action domain (row-level security scopes
each one to the caller's organisation)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.audits.models import Finding
from services.evidence.corrective.models import CorrectiveAction, Nonconformity
from services.evidence.corrective.rules import OPEN_ACTION_STATUSES

Entity = TypeVar("Entity", Nonconformity, CorrectiveAction)


@dataclass
class ActionFilter:
    ids: list[uuid.UUID] = field(default_factory=list)
    nonconformity_ids: list[uuid.UUID] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    owner: str | None = None
    # True: only overdue on ``today``; False: only not overdue; None: both.
    overdue: bool | None = None
    today: date | None = None


class CorrectiveRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, row: object) -> None:
        self.session.add(row)

    async def get(
        self,
        model: type[Entity],
        entity_id: uuid.UUID,
        *,
        for_update: bool = False,
        nowait: bool = False,
    ) -> Entity | None:
        query = sa.select(model).where(model.id == entity_id)
        if for_update:
            query = query.with_for_update(nowait=nowait)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def nonconformities(
        self,
        *,
        limit: int,
        after: uuid.UUID | None,
        ids: Sequence[uuid.UUID] = (),
        statuses: Sequence[str] = (),
        severities: Sequence[str] = (),
        finding_ids: Sequence[uuid.UUID] = (),
        owner: str | None = None,
    ) -> list[Nonconformity]:
        query = sa.select(Nonconformity).order_by(Nonconformity.id).limit(limit)
        if after is not None:
            query = query.where(Nonconformity.id > after)
        if ids:
            query = query.where(Nonconformity.id.in_(ids))
        if statuses:
            query = query.where(Nonconformity.status.in_(statuses))
        if severities:
            query = query.where(Nonconformity.severity.in_(severities))
        if finding_ids:
            query = query.where(Nonconformity.finding_id.in_(finding_ids))
        if owner is not None:
            query = query.where(sa.func.lower(Nonconformity.owner) == owner.lower())
        return list((await self.session.execute(query)).scalars())

    async def by_finding(
        self, finding_id: uuid.UUID, *, for_update: bool = False
    ) -> Nonconformity | None:
        query = sa.select(Nonconformity).where(Nonconformity.finding_id == finding_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def finding_for_update(self, finding_id: uuid.UUID) -> Finding | None:
        """The audit finding that raised a nonconformity, locked (it closes with it)."""
        return await self.session.get(Finding, finding_id, with_for_update=True)

    async def actions(
        self, filters: ActionFilter, *, limit: int, after: uuid.UUID | None
    ) -> list[CorrectiveAction]:
        query = sa.select(CorrectiveAction).order_by(CorrectiveAction.id).limit(limit)
        if after is not None:
            query = query.where(CorrectiveAction.id > after)
        if filters.ids:
            query = query.where(CorrectiveAction.id.in_(filters.ids))
        if filters.nonconformity_ids:
            query = query.where(CorrectiveAction.nonconformity_id.in_(filters.nonconformity_ids))
        if filters.statuses:
            query = query.where(CorrectiveAction.status.in_(filters.statuses))
        if filters.owner is not None:
            query = query.where(sa.func.lower(CorrectiveAction.owner) == filters.owner.lower())
        if filters.overdue is not None and filters.today is not None:
            overdue = sa.and_(
                CorrectiveAction.status.in_(OPEN_ACTION_STATUSES),
                CorrectiveAction.due_date < filters.today,
            )
            query = query.where(overdue if filters.overdue else sa.not_(overdue))
        return list((await self.session.execute(query)).scalars())

    async def actions_of(
        self, nonconformity_id: uuid.UUID, *, for_update: bool = False
    ) -> list[CorrectiveAction]:
        query = (
            sa.select(CorrectiveAction)
            .where(CorrectiveAction.nonconformity_id == nonconformity_id)
            .order_by(CorrectiveAction.id)
        )
        if for_update:
            query = query.with_for_update()
        return list((await self.session.execute(query)).scalars())

    async def action_statuses(
        self, nonconformity_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[str]]:
        out: dict[uuid.UUID, list[str]] = {n: [] for n in nonconformity_ids}
        if not nonconformity_ids:
            return out
        query = (
            sa.select(CorrectiveAction.nonconformity_id, CorrectiveAction.status)
            .where(CorrectiveAction.nonconformity_id.in_(list(nonconformity_ids)))
            .order_by(CorrectiveAction.nonconformity_id, CorrectiveAction.id)
        )
        for nc_id, status in (await self.session.execute(query)).all():
            out[nc_id].append(status)
        return out
