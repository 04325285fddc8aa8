"""The parts of the services' REST answers the gateway reads.

Copies of the shapes, not imports: the gateway talks to the services over HTTP only, and reading
with ``extra="ignore"`` lets a service add fields without breaking the gateway.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class UpstreamModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class UpstreamPage(UpstreamModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None

    def __class_getitem__(cls, params: Any) -> Any:
        # pydantic keeps ``UpstreamPage[X]`` in a weak cache: once a request's page was freed,
        # the next ``UpstreamPage[X]`` built the class (and its validator) again, 5 % of a
        # dashboard page. The clients name their pages inline, so keep each one here.
        key = (cls, params)
        found = _PAGE_TYPES.get(key)
        if found is None:
            found = _PAGE_TYPES[key] = super().__class_getitem__(params)
        return found


_PAGE_TYPES: dict[tuple[type, Any], Any] = {}


class InventoryDataInput(UpstreamModel):
    category: str
    personal: bool = False
    special_category: bool = False


class InventorySystem(UpstreamModel):
    """``AISystemRead`` of the inventory service."""

    id: uuid.UUID
    name: str
    description: str
    intended_purpose: str | None = None
    owner: str | None = None
    business_function: str | None = None
    lifecycle_stage: str
    provenance: str | None = None
    vendor_id: uuid.UUID | None = None
    data_inputs: list[InventoryDataInput] = Field(default_factory=list)
    sector: str | None = None
    affected_stakeholders: list[str] = Field(default_factory=list)
    human_oversight: str | None = None
    ai_roles: list[str] = Field(default_factory=list)
    next_review_at: date | None = None
    last_reviewed_at: date | None = None
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    in_scope: bool | None = None
    eu_ai_act_tier: str | None = None
    risk_level: str | None = None
    version: int
    created_at: datetime
    updated_at: datetime


class InventorySystemChange(UpstreamModel):
    """``AISystemChangeRead``: one version of a system, who made it and what changed."""

    system_id: uuid.UUID
    version: int
    changed_by: str
    changed_at: datetime
    changes: dict[str, dict[str, Any]]


class InventorySystemGaps(UpstreamModel):
    id: uuid.UUID
    name: str
    owner: str | None = None
    missing: list[str]
    review_overdue: bool
    next_review_at: date | None = None


class InventoryCompletenessCounts(UpstreamModel):
    systems: int
    with_gaps: int
    owner: int
    next_review_at: int
    intended_purpose: int
    data_inputs: int
    sector: int
    ai_roles: int
    review_overdue: int


class InventoryCompletenessPage(UpstreamPage[InventorySystemGaps]):
    counts: InventoryCompletenessCounts


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
