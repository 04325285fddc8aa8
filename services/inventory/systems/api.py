"""REST routes of the inventory service (``/v1``)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response, status
from fastapi.responses import JSONResponse

from services.inventory.systems import service
from services.inventory.systems.schemas import (
    AISystemCreate,
    AISystemPage,
    AISystemRead,
    AISystemUpdate,
)
from shared.auth import EDITORS, READERS, Principal, require_roles
from shared.http import (
    IdempotencyDep,
    Paging,
    TenantSession,
    cursor_after_id,
    etag,
    next_cursor,
    set_etag,
)

router = APIRouter(prefix="/v1")
Reader = Annotated[Principal, Depends(require_roles(READERS))]
Editor = Annotated[Principal, Depends(require_roles(EDITORS))]

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


@router.post(
    "/ai-systems",
    status_code=status.HTTP_201_CREATED,
    response_model=AISystemRead,
    tags=["ai-systems"],
    summary="Register an AI system",
    responses={409: PROBLEM, 422: PROBLEM},
)
async def register_ai_system(
    body: AISystemCreate,
    principal: Editor,
    session: TenantSession,
    idem: IdempotencyDep,
) -> Response:
    """Add a system to the register. Send `Idempotency-Key` to make retries safe."""
    if (replayed := await idem.replay(session, principal)) is not None:
        return replayed
    created = await service.register_system(session, principal, body)
    payload = created.model_dump(mode="json")
    headers = {"ETag": etag(created.version), "Location": f"/v1/ai-systems/{created.id}"}
    await idem.remember(session, principal, 201, payload, headers)
    return JSONResponse(payload, status_code=201, headers=headers)


@router.get(
    "/ai-systems",
    response_model=AISystemPage,
    tags=["ai-systems"],
    summary="List AI systems",
)
async def list_ai_systems(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    name: Annotated[
        str | None, Query(max_length=200, description="Case-insensitive part of the name")
    ] = None,
    id: Annotated[
        list[uuid.UUID] | None,
        Query(description="Fetch these systems (batch; at most 500)", max_length=500),
    ] = None,
) -> AISystemPage:
    items, fetched = await service.list_systems(
        session, limit=paging.limit, after=cursor_after_id(paging), name_contains=name, ids=id or []
    )
    return AISystemPage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.get(
    "/ai-systems/{system_id}",
    response_model=AISystemRead,
    tags=["ai-systems"],
    summary="Read one AI system",
    responses={404: PROBLEM},
)
async def get_ai_system(
    system_id: uuid.UUID, principal: Reader, session: TenantSession, response: Response
) -> AISystemRead:
    system = await service.get_system(session, system_id)
    set_etag(response, system.version)
    return system


@router.patch(
    "/ai-systems/{system_id}",
    response_model=AISystemRead,
    tags=["ai-systems"],
    summary="Change an AI system (send If-Match)",
    responses={404: PROBLEM, 412: PROBLEM, 428: PROBLEM},
)
async def update_ai_system(
    system_id: uuid.UUID,
    body: AISystemUpdate,
    principal: Editor,
    session: TenantSession,
    response: Response,
    if_match: Annotated[str | None, Header(description="ETag of the version you read")] = None,
) -> AISystemRead:
    updated = await service.update_system(session, principal, system_id, body, if_match)
    set_etag(response, updated.version)
    return updated
