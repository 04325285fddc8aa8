from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.http import Page


class InventorySystem(BaseModel):
    """The part of ``aims.inventory.system.*`` event data this service reads."""

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    org_id: uuid.UUID
    name: str
    lifecycle_stage: str
    business_function: str | None = None
    owner: str | None = None


class SystemProjectionRead(BaseModel):
    """The risk service's view of an AI system."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    lifecycle_stage: str
    business_function: str | None
    owner: str | None
    source_version: int = Field(description="Inventory version this view reflects")
    synced_at: datetime


SystemProjectionPage = Page[SystemProjectionRead]
