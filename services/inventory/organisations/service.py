"""Organisations and API keys. Flush, never commit."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.organisations.errors import ApiKeyNotFound
from services.inventory.organisations.events import APIKEY_CREATED, APIKEY_REVOKED
from services.inventory.organisations.models import Organisation
from services.inventory.organisations.repository import ApiKeyRepository, OrganisationRepository
from services.inventory.organisations.schemas import ApiKeyCreated, ApiKeyRead, OrganisationRead
from shared.apikeys import ApiKeyState
from shared.auth import generate_api_key
from shared.db import utcnow, uuid7
from shared.events import emit, make_event


async def create_organisation(
    session: AsyncSession, org_id: uuid.UUID, name: str
) -> OrganisationRead:
    """Record a new organisation; the session must already be scoped to ``org_id``."""
    org = Organisation(org_id=org_id, name=name, created_at=utcnow())
    OrganisationRepository(session).add(org)
    await session.flush()
    return OrganisationRead(id=org.org_id, name=org.name, created_at=org.created_at)


def _key_state(row: dict[str, object]) -> ApiKeyState:
    return ApiKeyState.model_validate(row)


async def create_api_key(
    session: AsyncSession, org_id: uuid.UUID, name: str, role: str
) -> ApiKeyCreated:
    key, prefix, key_hash = generate_api_key()
    values: dict[str, object] = {
        "id": uuid7(),
        "org_id": org_id,
        "name": name,
        "role": role,
        "prefix": prefix,
        "key_hash": key_hash,
        "created_at": utcnow(),
        "revoked_at": None,
        "version": 1,
    }
    await ApiKeyRepository(session).insert(values)
    state = _key_state(values)
    await emit(
        session,
        make_event(APIKEY_CREATED, org_id=org_id, subject=state.id, version=1, data=state),
    )
    return ApiKeyCreated(
        id=state.id,
        name=name,
        role=role,
        prefix=prefix,
        created_at=state.created_at,
        revoked_at=None,
        key=key,
    )


async def list_api_keys(session: AsyncSession, org_id: uuid.UUID) -> list[ApiKeyRead]:
    return [
        ApiKeyRead.model_validate(dict(r)) for r in await ApiKeyRepository(session).list(org_id)
    ]


async def revoke_api_key(session: AsyncSession, org_id: uuid.UUID, key_id: uuid.UUID) -> ApiKeyRead:
    repo = ApiKeyRepository(session)
    row = await repo.get(org_id, key_id)
    if row is None:
        raise ApiKeyNotFound(f"No API key {key_id} in your organisation.")
    values = dict(row)
    if values["revoked_at"] is None:
        values["revoked_at"] = utcnow()
        values["version"] = int(str(values["version"])) + 1
        await repo.update(
            key_id, {"revoked_at": values["revoked_at"], "version": values["version"]}
        )
        state = _key_state(values)
        await emit(
            session,
            make_event(
                APIKEY_REVOKED, org_id=org_id, subject=key_id, version=state.version, data=state
            ),
        )
    return ApiKeyRead.model_validate(values)
