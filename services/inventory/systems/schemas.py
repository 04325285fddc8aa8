"""Request and response bodies of the inventory API (and the data of its events)."""

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
    model_validator,
)

from shared.http import Page
from shared.text import no_nul


class LifecycleStage(enum.StrEnum):
    IDEA = "idea"
    DESIGN = "design"
    DEVELOPMENT = "development"
    VALIDATION = "validation"
    DEPLOYED = "deployed"
    RETIRED = "retired"


class Provenance(enum.StrEnum):
    """Who built the system: the organisation, a vendor, or both."""

    IN_HOUSE = "in_house"
    THIRD_PARTY = "third_party"
    HYBRID = "hybrid"


class Sector(enum.StrEnum):
    """Deployment context; all but ``general`` are sensitive (EU AI Act Annex III and kin)."""

    HIRING_EMPLOYMENT = "hiring_employment"
    CREDIT_FINANCE = "credit_finance"
    INSURANCE = "insurance"
    HEALTHCARE = "healthcare"
    EDUCATION = "education"
    LAW_ENFORCEMENT = "law_enforcement"
    MIGRATION_BORDER = "migration_border"
    JUSTICE_DEMOCRACY = "justice_democracy"
    CRITICAL_INFRASTRUCTURE = "critical_infrastructure"
    BIOMETRICS = "biometrics"
    ESSENTIAL_SERVICES = "essential_services"
    GENERAL = "general"


class AIRole(enum.StrEnum):
    """The organisation's roles for a system (ISO/IEC 42001); several may hold at once."""

    PRODUCER = "producer"
    PROVIDER = "provider"
    CUSTOMER = "customer"
    PARTNER = "partner"


class EUAIActTier(enum.StrEnum):
    PROHIBITED = "prohibited"
    HIGH = "high"
    LIMITED = "limited"
    MINIMAL = "minimal"


class AISystemSort(enum.StrEnum):
    NAME = "name"
    NAME_DESC = "-name"
    CREATED_AT = "created_at"
    CREATED_AT_DESC = "-created_at"
    UPDATED_AT = "updated_at"
    UPDATED_AT_DESC = "-updated_at"
    NEXT_REVIEW_AT = "next_review_at"
    NEXT_REVIEW_AT_DESC = "-next_review_at"


# Every string of a request refuses U+0000 (``shared.text.no_nul``): PostgreSQL cannot store
# it, so it is a 422 naming the field rather than a failed statement.
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(no_nul),
]
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(no_nul)
]
Stakeholder = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(no_nul),
]
LongText = Annotated[str, StringConstraints(max_length=10_000), AfterValidator(no_nul)]
FieldKey = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$", min_length=1, max_length=63)
]

SECTOR_DOC = "Deployment context / sector: " + ", ".join(s.value for s in Sector) + "."


class DataInput(BaseModel):
    """A category of data the system processes. Special-category data is always personal."""

    model_config = ConfigDict(extra="forbid")

    category: Stakeholder = Field(examples=["CVs"])
    personal: bool = False
    special_category: bool = Field(
        default=False, description="GDPR art. 9 data (health, biometrics…); implies `personal`"
    )

    @model_validator(mode="after")
    def _special_is_personal(self) -> DataInput:
        if self.special_category:
            self.personal = True
        return self


def _dedupe_roles(value: list[AIRole] | None) -> list[AIRole] | None:
    if value is None:
        return None
    return [role for role in AIRole if role in set(value)]


_CREATE_EXAMPLE: dict[str, Any] = {
    "name": "CV screening assistant",
    "description": "Ranks job applications for recruiters",
    "intended_purpose": "Shortlist applicants for a human recruiter to review",
    "owner": "head-of-talent@example.com",
    "business_function": "Human resources",
    "lifecycle_stage": "deployed",
    "provenance": "third_party",
    "data_inputs": [{"category": "CVs", "personal": True, "special_category": False}],
    "sector": "hiring_employment",
    "affected_stakeholders": ["applicants", "recruiters"],
    "human_oversight": "A recruiter reviews every rejection",
    "ai_roles": ["customer"],
    "next_review_at": "2027-06-30",
    "last_reviewed_at": "2026-06-30",
    "custom_fields": {"cost_centre": "HR-42"},
}


class AISystemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_CREATE_EXAMPLE]})

    name: Name
    description: LongText = ""
    intended_purpose: LongText | None = None
    owner: ShortText | None = None
    business_function: ShortText | None = None
    lifecycle_stage: LifecycleStage = LifecycleStage.IDEA
    provenance: Provenance | None = None
    vendor_id: uuid.UUID | None = Field(default=None, description="The vendor (third party)")
    data_inputs: list[DataInput] = Field(default_factory=list, max_length=100)
    sector: Sector | None = Field(default=None, description=SECTOR_DOC)
    affected_stakeholders: list[Stakeholder] = Field(default_factory=list, max_length=50)
    human_oversight: LongText | None = None
    ai_roles: list[AIRole] = Field(
        default_factory=list, description="Several at once; duplicates are dropped"
    )
    next_review_at: date | None = Field(default=None, description="Scheduled review date")
    last_reviewed_at: date | None = Field(
        default=None, description="When the system was last reviewed (not in the future)"
    )
    custom_fields: dict[FieldKey, Any] = Field(
        default_factory=dict,
        max_length=100,
        description="Values of the organisation's custom fields (`/v1/custom-fields`)",
    )

    _roles = field_validator("ai_roles")(_dedupe_roles)


class AISystemUpdate(BaseModel):
    """A partial update: only the fields sent change; `null` clears an optional field.

    `custom_fields` is merged into the current values; a key sent as `null` is removed.
    """

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: LongText | None = None
    intended_purpose: LongText | None = None
    owner: ShortText | None = None
    business_function: ShortText | None = None
    lifecycle_stage: LifecycleStage | None = None
    provenance: Provenance | None = None
    vendor_id: uuid.UUID | None = None
    data_inputs: list[DataInput] | None = Field(default=None, max_length=100)
    sector: Sector | None = Field(default=None, description=SECTOR_DOC)
    affected_stakeholders: list[Stakeholder] | None = Field(default=None, max_length=50)
    human_oversight: LongText | None = None
    ai_roles: list[AIRole] | None = None
    next_review_at: date | None = None
    last_reviewed_at: date | None = None
    custom_fields: dict[FieldKey, Any] | None = Field(default=None, max_length=100)

    _roles = field_validator("ai_roles")(_dedupe_roles)


class AISystemRead(BaseModel):
    """The full state of an AI system; also the data of ``aims.inventory.system.*`` events."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    name: str
    description: str
    intended_purpose: str | None = None
    owner: str | None
    business_function: str | None
    lifecycle_stage: LifecycleStage
    provenance: Provenance | None = None
    vendor_id: uuid.UUID | None = None
    data_inputs: list[DataInput] = Field(default_factory=list)
    sector: Sector | None = Field(default=None, description=SECTOR_DOC)
    affected_stakeholders: list[str] = Field(default_factory=list)
    human_oversight: str | None = None
    ai_roles: list[AIRole] = Field(default_factory=list)
    next_review_at: date | None = Field(default=None, description="When the next review is due")
    last_reviewed_at: date | None = Field(default=None, description="When it was last reviewed")
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    in_scope: bool | None = Field(
        default=None,
        description="Read-only: whether the current approved AIMS scope includes the system "
        "(null until a scope is approved)",
    )
    eu_ai_act_tier: EUAIActTier | None = Field(
        default=None, description="Read-only mirror of the risk service's classification"
    )
    risk_level: str | None = Field(
        default=None, description="Read-only mirror of the risk service's classification"
    )
    version: int = Field(description="Increases by one on every change; the ETag")
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


AISystemPage = Page[AISystemRead]


class AISystemChangeRead(BaseModel):
    """One change of a system: who, when, and each field's value before and after."""

    model_config = ConfigDict(from_attributes=True)

    system_id: uuid.UUID
    version: int
    changed_by: str
    changed_at: datetime
    changes: dict[str, dict[str, Any]] = Field(
        description='`{field: {"from": before, "to": after}}`'
    )


AISystemChangePage = Page[AISystemChangeRead]


class CompletenessItem(enum.StrEnum):
    OWNER = "owner"
    NEXT_REVIEW_AT = "next_review_at"
    INTENDED_PURPOSE = "intended_purpose"
    DATA_INPUTS = "data_inputs"
    SECTOR = "sector"
    AI_ROLES = "ai_roles"


class SystemGaps(BaseModel):
    id: uuid.UUID
    name: str
    owner: str | None
    missing: list[CompletenessItem]
    review_overdue: bool
    next_review_at: date | None


class CompletenessCounts(BaseModel):
    systems: int = Field(description="Systems considered (all but retired ones)")
    with_gaps: int = Field(description="Systems missing something or overdue for review")
    owner: int
    next_review_at: int
    intended_purpose: int
    data_inputs: int
    sector: int
    ai_roles: int
    review_overdue: int


class CompletenessPage(Page[SystemGaps]):
    counts: CompletenessCounts


# --- Custom fields ---------------------------------------------------------------------------


class CustomFieldType(enum.StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    CHOICE = "choice"
    PERSON = "person"


Choice = Stakeholder


class CustomFieldCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "key": "risk_appetite",
                    "label": "Risk appetite",
                    "type": "choice",
                    "choices": ["low", "medium", "high"],
                    "required": False,
                }
            ]
        },
    )

    key: FieldKey = Field(description="Stable key used in `custom_fields` of systems")
    label: Name
    type: CustomFieldType
    choices: list[Choice] = Field(default_factory=list, max_length=200)
    required: bool = False

    @model_validator(mode="after")
    def _choices_fit_type(self) -> CustomFieldCreate:
        if self.type == CustomFieldType.CHOICE and not self.choices:
            raise ValueError("a choice field needs at least one choice")
        if self.type != CustomFieldType.CHOICE and self.choices:
            raise ValueError("only choice fields have choices")
        if len(set(self.choices)) != len(self.choices):
            raise ValueError("choices must be unique")
        return self


class CustomFieldUpdate(BaseModel):
    """Label, choices and required flag may change; key and type may not."""

    model_config = ConfigDict(extra="forbid")

    label: Name | None = None
    choices: list[Choice] | None = Field(default=None, max_length=200)
    required: bool | None = None


class CustomFieldRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    key: str
    label: str
    type: CustomFieldType
    choices: list[str]
    required: bool
    version: int
    created_at: datetime
    updated_at: datetime


CustomFieldPage = Page[CustomFieldRead]


class ClassificationData(BaseModel):
    """The part of ``aims.risk.system.classified`` the register mirrors."""

    model_config = ConfigDict(extra="ignore")

    system_id: uuid.UUID
    org_id: uuid.UUID
    tier: EUAIActTier | None = None
    risk_level: str | None = None
