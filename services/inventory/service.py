"""Inventory use cases. Services flush, never commit: the request (or CLI command) owns the
transaction, so the change and its outbox event commit together or not at all."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.errors import AISystemNotFound, ApiKeyNotFound
from services.inventory.events import (
    APIKEY_CREATED,
    APIKEY_REVOKED,
    SYSTEM_REGISTERED,
    SYSTEM_RETIRED,
    SYSTEM_UPDATED,
)
from services.inventory.models import AISystem, Organisation
from services.inventory.repository import (
    AISystemRepository,
    ApiKeyRepository,
    OrganisationRepository,
)
from services.inventory.schemas import (
    AISystemCreate,
    AISystemRead,
    AISystemUpdate,
    ApiKeyCreated,
    ApiKeyRead,
    LifecycleStage,
    OrganisationRead,
)
from shared.apikeys import ApiKeyState
from shared.auth import Principal, generate_api_key
from shared.db import utcnow, uuid7
from shared.events import emit, make_event
from shared.http import check_version


async def register_system(
    session: AsyncSession, principal: Principal, body: AISystemCreate
) -> AISystemRead:
    system = AISystem(
        id=uuid7(),
        org_id=principal.org_id,
        version=1,
        name=body.name,
        description=body.description,
        owner=body.owner,
        business_function=body.business_function,
        lifecycle_stage=body.lifecycle_stage.value,
        created_by=principal.subject,
        updated_by=principal.subject,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    AISystemRepository(session).add(system)
    await session.flush()
    state = AISystemRead.model_validate(system)
    await emit(
        session,
        make_event(
            SYSTEM_REGISTERED, org_id=system.org_id, subject=system.id, version=1, data=state
        ),
    )
    return state


async def get_system(session: AsyncSession, system_id: uuid.UUID) -> AISystemRead:
    system = await AISystemRepository(session).get(system_id)
    if system is None:
        raise AISystemNotFound(f"No AI system {system_id} in your organisation.")
    return AISystemRead.model_validate(system)


async def list_systems(
    session: AsyncSession,
    *,
    limit: int,
    after: uuid.UUID | None,
    name_contains: str | None,
    ids: list[uuid.UUID],
) -> tuple[list[AISystemRead], list[AISystem]]:
    """One page of systems, and the rows fetched (one more than the page when more follow)."""
    rows = await AISystemRepository(session).list(
        limit=limit + 1, after=after, name_contains=name_contains, ids=ids
    )
    return [AISystemRead.model_validate(r) for r in rows[:limit]], rows


async def update_system(
    session: AsyncSession,
    principal: Principal,
    system_id: uuid.UUID,
    body: AISystemUpdate,
    if_match: str | None,
) -> AISystemRead:
    repo = AISystemRepository(session)
    system = await repo.get(system_id, for_update=True)
    if system is None:
        raise AISystemNotFound(f"No AI system {system_id} in your organisation.")
    check_version(if_match, system.version)
    changes = body.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] is None:
        changes.pop("name")
    if "lifecycle_stage" in changes and changes["lifecycle_stage"] is None:
        changes.pop("lifecycle_stage")
    if not changes:
        return AISystemRead.model_validate(system)
    was_retired = system.lifecycle_stage == LifecycleStage.RETIRED.value
    for field, value in changes.items():
        setattr(system, field, value.value if isinstance(value, LifecycleStage) else value)
    system.version += 1
    system.updated_by = principal.subject
    system.updated_at = utcnow()
    await session.flush()
    state = AISystemRead.model_validate(system)
    retired_now = not was_retired and system.lifecycle_stage == LifecycleStage.RETIRED.value
    event_type = SYSTEM_RETIRED if retired_now else SYSTEM_UPDATED
    await emit(
        session,
        make_event(
            event_type, org_id=system.org_id, subject=system.id, version=system.version, data=state
        ),
    )
    return state


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
