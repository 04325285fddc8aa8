"""Bodies of the organisation and API-key endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.inventory.systems.schemas import Name


class OrganisationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    created_at: datetime


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    role: Annotated[str, Field(pattern="^(admin|manager|risk_owner|contributor|auditor|viewer)$")]


class ApiKeyRead(BaseModel):
    id: uuid.UUID
    name: str
    role: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The key itself; shown once, never stored")
