"""Request and response bodies of the inventory API (and the data of its events)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.http import Page


class LifecycleStage(enum.StrEnum):
    IDEA = "idea"
    DESIGN = "design"
    DEVELOPMENT = "development"
    VALIDATION = "validation"
    DEPLOYED = "deployed"
    RETIRED = "retired"


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=10_000)]


class AISystemCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "CV screening assistant",
                    "description": "Ranks job applications for recruiters",
                    "owner": "head-of-talent@example.com",
                    "business_function": "Human resources",
                    "lifecycle_stage": "deployed",
                }
            ]
        },
    )

    name: Name
    description: LongText = ""
    owner: ShortText | None = None
    business_function: ShortText | None = None
    lifecycle_stage: LifecycleStage = LifecycleStage.IDEA


class AISystemUpdate(BaseModel):
    """A partial update: only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: LongText | None = None
    owner: ShortText | None = None
    business_function: ShortText | None = None
    lifecycle_stage: LifecycleStage | None = None


class AISystemRead(BaseModel):
    """The full state of an AI system; also the data of ``aims.inventory.system.*`` events."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    name: str
    description: str
    owner: str | None
    business_function: str | None
    lifecycle_stage: LifecycleStage
    version: int = Field(description="Increases by one on every change; the ETag")
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


AISystemPage = Page[AISystemRead]
