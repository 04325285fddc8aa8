"""Request and response bodies of the impact assessment API (and the data of its events)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from services.risk.impact.requirement import RequirementReason
from shared.http import Page
from shared.text import no_nul

# ``no_nul``: PostgreSQL cannot store U+0000 (not even in jsonb), so it is a 422 naming the field.
ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(no_nul),
]
LongText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000),
    AfterValidator(no_nul),
]
Reason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=4_000),
    AfterValidator(no_nul),
]
MAX_ITEMS = 200


class AssessmentStatus(enum.StrEnum):
    """draft → in_review → approved → superseded; in review it can also go back to draft, be
    rejected (with a reason) or withdrawn; a rejected or withdrawn one can be reopened as a
    draft. No state but superseded is final."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    SUPERSEDED = "superseded"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Severity(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Likelihood(enum.StrEnum):
    RARE = "rare"
    UNLIKELY = "unlikely"
    POSSIBLE = "possible"
    LIKELY = "likely"
    ALMOST_CERTAIN = "almost_certain"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Impact(_Strict):
    """One potential consequence: what it is, how severe, and (optionally) how likely."""

    description: LongText
    severity: Severity
    likelihood: Likelihood | None = None


class Stakeholder(_Strict):
    """A person or group the system affects, and how."""

    name: ShortText
    how_affected: LongText


class FundamentalRightsAssessment(_Strict):
    """EU AI Act Art. 27(1)(a)–(f): what a deployer of a high-risk system assesses before use."""

    deployer_process: LongText | None = Field(
        None, description="(a) The deployer's processes in which the system is used."
    )
    period_and_frequency_of_use: LongText | None = Field(
        None,
        description="(b) The period of time within which, and frequency with which, it is used.",
    )
    affected_person_categories: list[ShortText] = Field(
        default_factory=list,
        max_length=MAX_ITEMS,
        description="(c) Categories of natural persons and groups likely to be affected.",
    )
    specific_risks_of_harm: list[Impact] = Field(
        default_factory=list,
        max_length=MAX_ITEMS,
        description="(d) Specific risks of harm likely to affect those categories.",
    )
    human_oversight_measures: LongText | None = Field(
        None, description="(e) Human oversight measures, per the instructions for use."
    )
    measures_if_risks_materialise: LongText | None = Field(
        None,
        description="(f) Measures if the risks materialise, incl. internal governance and "
        "complaint mechanisms.",
    )


class AssessmentContents(_Strict):
    """The assessment itself (ISO/IEC 42001 6.1.4, A.5.2–A.5.5). Optional while in draft; what
    approval needs is listed by ``POST …/approve`` when it refuses."""

    purpose: LongText | None = Field(None, description="Purpose and intended use assessed.")
    stakeholders: list[Stakeholder] = Field(default_factory=list, max_length=MAX_ITEMS)
    legal_context: LongText | None = Field(None, description="Applicable laws and obligations.")
    social_context: LongText | None = Field(None, description="Social and cultural context.")
    impacts_on_individuals: list[Impact] = Field(default_factory=list, max_length=MAX_ITEMS)
    impacts_on_groups: list[Impact] = Field(default_factory=list, max_length=MAX_ITEMS)
    impacts_on_society: list[Impact] = Field(default_factory=list, max_length=MAX_ITEMS)
    fairness_and_bias: LongText | None = Field(
        None, description="Fairness and bias: who may be treated unequally, and why."
    )
    mitigation_measures: list[LongText] = Field(default_factory=list, max_length=MAX_ITEMS)
    human_oversight: LongText | None = None
    monitoring: LongText | None = Field(None, description="How impacts are monitored in use.")
    fundamental_rights: FundamentalRightsAssessment | None = Field(
        None, description="EU AI Act Art. 27 fields; required for deployers of high-risk systems."
    )


class ImpactAssessmentCreate(AssessmentContents):
    system_id: uuid.UUID
    next_review_at: date | None = None


LIST_FIELDS = frozenset(
    {
        "stakeholders",
        "impacts_on_individuals",
        "impacts_on_groups",
        "impacts_on_society",
        "mitigation_measures",
    }
)


class ImpactAssessmentUpdate(AssessmentContents):
    """Fields to change (draft only); fields left out stay as they are."""

    next_review_at: date | None = None

    @field_validator(*LIST_FIELDS, mode="before")
    @classmethod
    def _no_null_lists(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("Send an empty list to clear this field, not null.")
        return value


class ImpactAssessmentRead(AssessmentContents):
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    org_id: uuid.UUID
    system_id: uuid.UUID
    status: AssessmentStatus
    next_review_at: date | None
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str = Field(description="The author; may not approve (separation of duties).")
    updated_by: str
    submitted_by: str | None
    submitted_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None
    superseded_by: uuid.UUID | None = Field(description="The approved assessment that replaced it.")
    superseded_at: datetime | None
    returned_by: str | None = Field(None, description="Who last sent it back to draft.")
    returned_at: datetime | None = None
    return_reason: str | None = Field(None, description="Why it was last sent back to draft.")
    rejected_by: str | None = None
    rejected_at: datetime | None = None
    rejection_reason: str | None = None
    withdrawn_by: str | None = None
    withdrawn_at: datetime | None = None
    withdrawal_reason: str | None = None


ImpactAssessmentPage = Page[ImpactAssessmentRead]


class TransitionNote(_Strict):
    """Why an assessment in review goes back to draft, or is withdrawn (optional)."""

    reason: Reason | None = None


class Rejection(_Strict):
    """Why an assessment in review is rejected (required: the author needs to know)."""

    reason: Reason


class ImpactAssessmentChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    action: str
    changed_by: str
    changed_at: datetime
    changes: dict[str, Any]


class ImpactAssessmentHistory(BaseModel):
    items: list[ImpactAssessmentChangeRead]
    next_cursor: str | None = None


class RequiredAssessment(BaseModel):
    """A system that needs an impact assessment, why, and whether it has a current one."""

    id: uuid.UUID = Field(description="The AI system's id.")
    system_id: uuid.UUID
    name: str
    lifecycle_stage: str
    reasons: list[RequirementReason]
    fundamental_rights_fields_required: bool = Field(
        description="EU AI Act Art. 27 fields are required before approval."
    )
    approved_assessment_id: uuid.UUID | None = Field(
        description="Its approved assessment, current or overdue for review."
    )
    next_review_at: date | None
    has_current_assessment: bool = Field(
        description="An approved assessment whose review date has not passed."
    )
    latest_assessment_id: uuid.UUID | None = Field(description="Its newest assessment, any status.")
    latest_status: AssessmentStatus | None


RequiredAssessmentPage = Page[RequiredAssessment]
