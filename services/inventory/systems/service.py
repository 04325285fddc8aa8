"""Inventory use cases. Services flush, never commit: the request (or CLI command) owns the
transaction, so the change and its outbox event commit together or not at all."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.systems.errors import AISystemNotFound
from services.inventory.systems.events import SYSTEM_REGISTERED, SYSTEM_RETIRED, SYSTEM_UPDATED
from services.inventory.systems.models import AISystem
from services.inventory.systems.repository import AISystemRepository
from services.inventory.systems.schemas import (
    AISystemCreate,
    AISystemRead,
    AISystemUpdate,
    LifecycleStage,
)
from shared.auth import Principal
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
