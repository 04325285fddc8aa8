"""Every query of the risk policy. Row-level security scopes each one to the caller's
organisation."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.risk.policy.models import RiskPolicy
from shared.db import ORG_SETTING


class RiskPolicyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, org_id: uuid.UUID, *, for_update: bool = False) -> RiskPolicy | None:
        return await self.session.get(RiskPolicy, org_id, with_for_update=for_update)

    def add(self, policy: RiskPolicy) -> None:
        self.session.add(policy)

    async def session_org(self) -> uuid.UUID | None:
        """The organisation the session acts for (the tenant setting RLS reads)."""
        value = (
            await self.session.execute(sa.select(sa.func.current_setting(ORG_SETTING, sa.true())))
        ).scalar_one_or_none()
        return uuid.UUID(value) if value else None
