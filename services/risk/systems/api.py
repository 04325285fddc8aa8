"""REST routes of the risk service (``/v1``)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query

from services.risk.systems import service
from services.risk.systems.schemas import SystemProjectionPage, SystemProjectionRead
from shared.auth import READERS, Principal, require_roles
from shared.http import Paging, PrefilteredRouter, TenantSession, cursor_after_id, next_cursor

router = PrefilteredRouter(prefix="/v1", tags=["systems"])
Reader = Annotated[Principal, Depends(require_roles(READERS))]


@router.get("/systems", response_model=SystemProjectionPage, summary="AI systems as risk sees them")
async def list_systems(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    id: Annotated[list[uuid.UUID] | None, Query(max_length=500)] = None,
) -> SystemProjectionPage:
    items, rows = await service.list_systems(
        session, limit=paging.limit, after=cursor_after_id(paging), ids=id or []
    )
    return SystemProjectionPage(items=items, next_cursor=next_cursor(items, rows, paging))


@router.get("/systems/{system_id}", response_model=SystemProjectionRead)
async def get_system(
    system_id: uuid.UUID, principal: Reader, session: TenantSession
) -> SystemProjectionRead:
    return await service.get_system(session, system_id)
