"""Every query of the organisation's context (4.1, 4.2). Row-level security scopes each one to the
caller's organisation."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from services.inventory.context.models import (
    ContextChange,
    ContextIssue,
    InterestedParty,
    OrganisationAIRoles,
)
from shared.db import utcnow


def _overdue_filter(column: InstrumentedAttribute[datetime | None], overdue: bool) -> Any:
    now = utcnow()
    if overdue:
        return sa.and_(column.is_not(None), column < now)
    return sa.or_(column.is_(None), column >= now)


class ContextIssueRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, issue_id: uuid.UUID, *, for_update: bool = False) -> ContextIssue | None:
        query = sa.select(ContextIssue).where(ContextIssue.id == issue_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def page(
        self,
        *,
        limit: int,
        after: uuid.UUID | None,
        kind: str | None = None,
        framework: str | None = None,
        category: str | None = None,
        review_overdue: bool | None = None,
        ids: list[uuid.UUID] | None = None,
    ) -> list[ContextIssue]:
        query = sa.select(ContextIssue).order_by(ContextIssue.id).limit(limit)
        if ids:
            query = query.where(ContextIssue.id.in_(ids))
        if after is not None:
            query = query.where(ContextIssue.id > after)
        if kind:
            query = query.where(ContextIssue.kind == kind)
        if framework:
            query = query.where(ContextIssue.framework == framework)
        if category:
            query = query.where(ContextIssue.category == category)
        if review_overdue is not None:
            query = query.where(_overdue_filter(ContextIssue.next_review_at, review_overdue))
        return list((await self.session.execute(query)).scalars())

    def add(self, issue: ContextIssue) -> None:
        self.session.add(issue)


class InterestedPartyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, party_id: uuid.UUID, *, for_update: bool = False) -> InterestedParty | None:
        query = sa.select(InterestedParty).where(InterestedParty.id == party_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def page(
        self,
        *,
        limit: int,
        after: uuid.UUID | None,
        type: str | None = None,
        review_overdue: bool | None = None,
        unaddressed: bool | None = None,
        ids: list[uuid.UUID] | None = None,
    ) -> list[InterestedParty]:
        query = sa.select(InterestedParty).order_by(InterestedParty.id).limit(limit)
        if ids:
            query = query.where(InterestedParty.id.in_(ids))
        if after is not None:
            query = query.where(InterestedParty.id > after)
        if type:
            query = query.where(InterestedParty.type == type)
        if review_overdue is not None:
            query = query.where(_overdue_filter(InterestedParty.next_review_at, review_overdue))
        if unaddressed is not None:
            has_open = InterestedParty.requirements.contains([{"addressed": False}])
            query = query.where(has_open if unaddressed else sa.not_(has_open))
        return list((await self.session.execute(query)).scalars())

    def add(self, party: InterestedParty) -> None:
        self.session.add(party)


class OrganisationAIRolesRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(
        self, org_id: uuid.UUID, *, for_update: bool = False
    ) -> OrganisationAIRoles | None:
        if for_update:
            return await self.session.get(OrganisationAIRoles, org_id, with_for_update=True)
        return await self.session.get(OrganisationAIRoles, org_id)

    def add(self, roles: OrganisationAIRoles) -> None:
        self.session.add(roles)


class ContextChangeRepository:
    """The history of every context entity (issues, parties, the organisation's AI roles)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, change: ContextChange) -> None:
        self.session.add(change)

    async def page(
        self, entity_type: str, entity_id: uuid.UUID, *, limit: int, after: uuid.UUID | None
    ) -> list[ContextChange]:
        """Changes of one entity, oldest first."""
        query = (
            sa.select(ContextChange)
            .where(ContextChange.entity_type == entity_type, ContextChange.entity_id == entity_id)
            .order_by(ContextChange.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(ContextChange.id > after)
        return list((await self.session.execute(query)).scalars())
