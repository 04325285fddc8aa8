"""The parts of the services' REST answers the gateway reads.

Copies of the shapes, not imports: the gateway talks to the services over HTTP only, and reading
with ``extra="ignore"`` lets a service add fields without breaking the gateway.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class UpstreamModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class UpstreamPage(UpstreamModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class InventorySystem(UpstreamModel):
    """``AISystemRead`` of the inventory service."""

    id: uuid.UUID
    name: str
    description: str
    owner: str | None = None
    business_function: str | None = None
    lifecycle_stage: str
    version: int
    created_at: datetime
    updated_at: datetime


class RiskSystem(UpstreamModel):
    """The risk service's projection of an AI system."""

    id: uuid.UUID
    source_version: int
    synced_at: datetime


class EvidenceSystem(UpstreamModel):
    """The evidence service's projection of an AI system, with its evidence totals."""

    id: uuid.UUID
    file_count: int
    total_bytes: int
    source_version: int
