"""API keys of the caller's organisation (admins only)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, status

from services.inventory.organisations import service
from services.inventory.organisations.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from shared.auth import ADMINS, Principal, require_roles
from shared.http import PrefilteredRouter, TenantSession

router = PrefilteredRouter(prefix="/v1")
Admin = Annotated[Principal, Depends(require_roles(ADMINS))]


@router.post(
    "/api-keys",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    tags=["api-keys"],
    summary="Issue an API key for an integration (admin)",
)
async def create_api_key(
    body: ApiKeyCreate, principal: Admin, session: TenantSession
) -> ApiKeyCreated:
    return await service.create_api_key(session, principal.org_id, body.name, body.role)


@router.get("/api-keys", response_model=list[ApiKeyRead], tags=["api-keys"])
async def list_api_keys(principal: Admin, session: TenantSession) -> list[ApiKeyRead]:
    return await service.list_api_keys(session, principal.org_id)


@router.delete(
    "/api-keys/{key_id}", response_model=ApiKeyRead, tags=["api-keys"], summary="Revoke a key"
)
async def revoke_api_key(key_id: uuid.UUID, principal: Admin, session: TenantSession) -> ApiKeyRead:
    return await service.revoke_api_key(session, principal.org_id, key_id)
