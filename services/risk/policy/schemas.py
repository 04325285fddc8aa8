"""Schemas of the organisation's risk policy."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

SELF_ACCEPTANCE = (
    "Organisation policy, not a legal requirement: when true, whoever created or owns a risk may "
    "also accept it. When false (the default), acceptance needs someone else (separation of "
    "duties)."
)
FULL_ASSESSMENT = (
    "Organisation policy, not a legal requirement: when true, every high-risk AI system needs a "
    "full impact assessment, beyond the deployers Art. 27 of Regulation (EU) 2024/1689 names."
)


class RiskPolicyUpdate(BaseModel):
    """The whole policy; settings left out take their default (false)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "require_impact_assessment_for_all_high_risk": True,
                    "allow_self_acceptance": False,
                }
            ]
        },
    )

    require_impact_assessment_for_all_high_risk: bool = Field(
        default=False, strict=True, description=FULL_ASSESSMENT
    )
    allow_self_acceptance: bool = Field(default=False, strict=True, description=SELF_ACCEPTANCE)


class RiskPolicyRead(BaseModel):
    """The organisation's risk policy; version 0 (the defaults) until it is first set."""

    model_config = ConfigDict(from_attributes=True)

    org_id: uuid.UUID
    require_impact_assessment_for_all_high_risk: bool = Field(description=FULL_ASSESSMENT)
    allow_self_acceptance: bool = Field(description=SELF_ACCEPTANCE)
    basis: str = Field(
        default="policy",
        description="Always `policy`: these settings are the organisation's choice, not the law.",
    )
    version: int
    updated_at: datetime | None
    updated_by: str | None
