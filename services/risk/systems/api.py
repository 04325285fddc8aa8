"""REST routes of the risk service (``/v1``)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.risk.systems.errors import SystemNotKnown
from services.risk.systems.repository import SystemProjectionRepository
from services.risk.systems.schemas import SystemProjectionPage, SystemProjectionRead
from shared.auth import READERS, Principal, require_roles
from shared.http import Paging, TenantSession, cursor_after_id, next_cursor

router = APIRouter(prefix="/v1", tags=["systems"])
Reader = Annotated[Principal, Depends(require_roles(READERS))]


@router.get("/systems", response_model=SystemProjectionPage, summary="AI systems as risk sees them")
async def list_systems(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    id: Annotated[list[uuid.UUID] | None, Query(max_length=500)] = None,
) -> SystemProjectionPage:
    rows = await SystemProjectionRepository(session).list(
        limit=paging.limit + 1, after=cursor_after_id(paging), ids=id or []
    )
    items = [SystemProjectionRead.model_validate(r) for r in rows[: paging.limit]]
    return SystemProjectionPage(items=items, next_cursor=next_cursor(items, rows, paging))


@router.get("/systems/{system_id}", response_model=SystemProjectionRead)
async def get_system(
    system_id: uuid.UUID, principal: Reader, session: TenantSession
) -> SystemProjectionRead:
    row = await SystemProjectionRepository(session).get(system_id)
    if row is None:
        raise SystemNotKnown(f"The risk service has no AI system {system_id} in your organisation.")
    return SystemProjectionRead.model_validate(row)
