"""Queries of organisations and API keys. ``api_key`` has no row-level security (it is read
before the caller's organisation is known), so every query here names the organisation."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.organisations.models import Organisation
from shared.db import api_key_table


class OrganisationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, org_id: uuid.UUID) -> Organisation | None:
        return await self.session.get(Organisation, org_id)

    def add(self, org: Organisation) -> None:
        self.session.add(org)


class ApiKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list(self, org_id: uuid.UUID) -> list[sa.RowMapping]:
        query = (
            sa.select(api_key_table)
            .where(api_key_table.c.org_id == org_id)
            .order_by(api_key_table.c.created_at)
        )
        return list((await self.session.execute(query)).mappings())

    async def get(self, org_id: uuid.UUID, key_id: uuid.UUID) -> sa.RowMapping | None:
        query = sa.select(api_key_table).where(
            api_key_table.c.org_id == org_id, api_key_table.c.id == key_id
        )
        return (await self.session.execute(query)).mappings().first()

    async def insert(self, values: dict[str, object]) -> None:
        await self.session.execute(api_key_table.insert().values(**values))

    async def update(self, key_id: uuid.UUID, values: dict[str, object]) -> None:
        await self.session.execute(
            api_key_table.update().where(api_key_table.c.id == key_id).values(**values)
        )
