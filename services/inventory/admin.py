"""Operations the CLI performs directly against the inventory database (``aims org create``,
``aims apikey create``). Each runs in one transaction scoped to the organisation, so events go
through the outbox exactly as they do for API calls."""

from __future__ import annotations

import uuid
from typing import Any

from services.inventory.config import InventorySettings
from services.inventory.organisations import service
from services.inventory.organisations.repository import OrganisationRepository
from shared.auth import Role
from shared.db import Database, tenant_transaction, uuid7
from shared.errors import BadRequest, NotFound


async def create_organisation(settings: InventorySettings, name: str) -> dict[str, Any]:
    name = name.strip()
    if not name or len(name) > 200:
        raise BadRequest("An organisation needs a name of 1 to 200 characters.")
    db = Database(settings.app_database_url, pool_size=1)
    try:
        org_id = uuid7()
        async with tenant_transaction(db, org_id) as session:
            org = await service.create_organisation(session, org_id, name)
        return org.model_dump(mode="json")
    finally:
        await db.dispose()


async def create_api_key(
    settings: InventorySettings, org_id: str, role: str, name: str
) -> dict[str, Any]:
    try:
        org = uuid.UUID(org_id)
        Role(role)
    except ValueError as exc:
        raise BadRequest(f"Not a valid organisation id or role: {exc}") from exc
    db = Database(settings.app_database_url, pool_size=1)
    try:
        async with tenant_transaction(db, org) as session:
            if await OrganisationRepository(session).get(org) is None:
                raise NotFound(f"No organisation {org_id}.")
            created = await service.create_api_key(session, org, name, role)
        return created.model_dump(mode="json")
    finally:
        await db.dispose()
