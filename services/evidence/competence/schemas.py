"""Request and response bodies of the competence API (and the data of its events)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from services.evidence.competence.rules import GapReason
from shared.http import Page
from shared.text import Name, Prose, no_nul

Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$"
    ),
    AfterValidator(no_nul),
]


class EvaluationMethod(enum.StrEnum):
    TEST = "test"
    OBSERVATION = "observation"
    REVIEW = "review"
    OTHER = "other"


class EvaluationResult(enum.StrEnum):
    EFFECTIVE = "effective"
    PARTIALLY_EFFECTIVE = "partially_effective"
    NOT_EFFECTIVE = "not_effective"
    PENDING = "pending"


# --- People -----------------------------------------------------------------------------------


class PersonCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Ada Lovelace",
                    "email": "ada@example.com",
                    "department": "Data science",
                    "job_title": "ML engineer",
                    "external_ref": "HR-0042",
                }
            ]
        },
    )

    name: Name
    email: Email | None = Field(
        default=None, description="Unique per organisation, compared case-insensitively"
    )
    department: Name | None = None
    job_title: Name | None = None
    active: bool = True
    external_ref: Name | None = Field(
        default=None, description="HR system id; unique per organisation when given"
    )


class PersonUpdate(BaseModel):
    """A partial update: only the fields sent change (send null to clear an optional one)."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    email: Email | None = None
    department: Name | None = None
    job_title: Name | None = None
    active: bool | None = None
    external_ref: Name | None = None

    @model_validator(mode="after")
    def _not_null(self) -> PersonUpdate:
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("name cannot be cleared")
        if "active" in self.model_fields_set and self.active is None:
            raise ValueError("active cannot be null")
        return self


class PersonRead(BaseModel):
    """The full state of a person; also the data of ``aims.evidence.person.*``."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    name: str
    email: str | None
    department: str | None
    job_title: str | None
    active: bool
    external_ref: str | None
    version: int = Field(description="Increases by one on every change; the ETag")
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


PersonPage = Page[PersonRead]

# --- Competences ------------------------------------------------------------------------------


class CompetenceCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "AI risk assessment",
                    "description": "Runs an AI risk assessment per the organisation's method.",
                    "validity_months": 24,
                },
                {"name": "AI policy awareness", "awareness": True, "validity_months": 12},
            ]
        },
    )

    name: Name = Field(description="Unique per organisation, compared case-insensitively")
    description: Prose = ""
    validity_months: int | None = Field(
        default=None, ge=1, le=600, description="How long a training stays valid; null: forever"
    )
    awareness: bool = Field(
        default=False, description="An awareness topic (7.3) every active person must hold"
    )


class CompetenceUpdate(BaseModel):
    """A partial update. A new ``validity_months`` applies to trainings recorded afterwards."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: Prose | None = None
    validity_months: int | None = Field(default=None, ge=1, le=600)
    awareness: bool | None = None

    @model_validator(mode="after")
    def _not_null(self) -> CompetenceUpdate:
        for name in ("name", "description", "awareness"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class CompetenceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    name: str
    description: str
    validity_months: int | None
    awareness: bool
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


CompetencePage = Page[CompetenceRead]

# --- AIMS roles -------------------------------------------------------------------------------


class AIMSRoleCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Internal auditor",
                    "description": "Audits the AIMS (9.2).",
                    "responsibilities": "Plans and runs internal audits; reports findings.",
                    "required_competence_ids": ["01900000-0000-7000-8000-000000000001"],
                }
            ]
        },
    )

    name: Name = Field(description="Unique per organisation, compared case-insensitively")
    description: Prose = ""
    responsibilities: Prose = ""
    required_competence_ids: list[uuid.UUID] = Field(default_factory=list, max_length=200)


class AIMSRoleUpdate(BaseModel):
    """A partial update; ``required_competence_ids`` replaces the whole set."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: Prose | None = None
    responsibilities: Prose | None = None
    required_competence_ids: list[uuid.UUID] | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _not_null(self) -> AIMSRoleUpdate:
        for name in type(self).model_fields:
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class AIMSRoleRead(BaseModel):
    """The full state of an AIMS role; also the data of ``aims.evidence.aims_role.changed``."""

    id: uuid.UUID
    org_id: uuid.UUID
    name: str
    description: str
    responsibilities: str
    required_competence_ids: list[uuid.UUID]
    holder_ids: list[uuid.UUID] = Field(description="People holding the role today")
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str
    deleted: bool = Field(default=False, description="True only in the event of a deletion")


AIMSRolePage = Page[AIMSRoleRead]


class AssignmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: uuid.UUID
    since: date | None = Field(default=None, description="First day held; default today")
    until: date | None = Field(default=None, description="Last day held; null: open")

    @model_validator(mode="after")
    def _ordered(self) -> AssignmentCreate:
        if self.since and self.until and self.until < self.since:
            raise ValueError("until must not be before since")
        return self


class AssignmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    role_id: uuid.UUID
    person_id: uuid.UUID
    since: date
    until: date | None
    current: bool = Field(description="Whether the person holds the role today")
    created_by: str
    created_at: datetime


AssignmentPage = Page[AssignmentRead]

# --- Trainings --------------------------------------------------------------------------------


class TrainingCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "person_id": "01900000-0000-7000-8000-000000000002",
                    "competence_id": "01900000-0000-7000-8000-000000000001",
                    "title": "ISO/IEC 42001 internal auditor course",
                    "provider": "Example Academy",
                    "completed_at": "2026-03-14",
                    "evaluation_method": "test",
                    "evaluation_result": "effective",
                    "evaluated_at": "2026-03-20",
                    "evaluated_by": "head-of-compliance@example.com",
                }
            ]
        },
    )

    person_id: uuid.UUID
    competence_id: uuid.UUID
    title: Name
    provider: Name | None = None
    completed_at: date = Field(description="Not in the future")
    expires_at: date | None = Field(
        default=None,
        description="First day no longer valid; default: completed_at + the competence's validity",
    )
    evidence_item_id: uuid.UUID | None = Field(
        default=None, description="The evidence item holding the certificate"
    )
    evaluation_method: EvaluationMethod | None = None
    evaluation_result: EvaluationResult = EvaluationResult.PENDING
    evaluated_at: date | None = None
    evaluated_by: Name | None = None
    evaluation_notes: Prose = ""

    @model_validator(mode="after")
    def _dates(self) -> TrainingCreate:
        if self.expires_at is not None and self.expires_at <= self.completed_at:
            raise ValueError("expires_at must be after completed_at")
        return self


class TrainingUpdate(BaseModel):
    """A partial update: the evaluation of effectiveness, or corrections of the record. Changing
    the dates moves the expiry notices."""

    model_config = ConfigDict(extra="forbid")

    title: Name | None = None
    provider: Name | None = None
    completed_at: date | None = None
    expires_at: date | None = Field(
        default=None, description="null: derive again from the competence's validity"
    )
    evidence_item_id: uuid.UUID | None = None
    evaluation_method: EvaluationMethod | None = None
    evaluation_result: EvaluationResult | None = None
    evaluated_at: date | None = None
    evaluated_by: Name | None = None
    evaluation_notes: Prose | None = None

    @model_validator(mode="after")
    def _not_null(self) -> TrainingUpdate:
        for name in ("title", "completed_at", "evaluation_result", "evaluation_notes"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class TrainingRead(BaseModel):
    """The full state of a training; also the data of ``aims.evidence.training.*``."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    person_id: uuid.UUID
    competence_id: uuid.UUID
    title: str
    provider: str | None
    completed_at: date
    expires_at: date | None = Field(description="First day no longer valid; null: never")
    expires_at_explicit: bool
    evidence_item_id: uuid.UUID | None
    evaluation_method: EvaluationMethod | None
    evaluation_result: EvaluationResult
    evaluated_at: date | None
    evaluated_by: str | None
    evaluation_notes: str
    valid: bool = Field(description="Gives its competence today (not expired, effective)")
    expiring_notified_at: datetime | None = Field(
        description="When `training.expiring` was emitted for the current expiry date"
    )
    expired_notified_at: datetime | None = Field(
        description="When `training.expired` was emitted for the current expiry date"
    )
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


TrainingPage = Page[TrainingRead]

# --- Gaps and awareness -----------------------------------------------------------------------


class HolderGap(BaseModel):
    person_id: uuid.UUID
    person_name: str
    competence_id: uuid.UUID
    competence_name: str
    reason: GapReason
    expired_on: date | None = None
    detail: str


class RoleGap(BaseModel):
    role_id: uuid.UUID
    role_name: str
    holder_count: int
    no_holders: bool = Field(description="No one holds this role")
    detail: str | None = None
    gaps: list[HolderGap]


class RoleGapPage(BaseModel):
    """Roles with a gap, by role id; ``as_of`` is the day evaluated."""

    as_of: date
    items: list[RoleGap]
    next_cursor: str | None = None


class MissingTopic(BaseModel):
    competence_id: uuid.UUID
    competence_name: str
    reason: GapReason
    expired_on: date | None = None


class PersonMissingAwareness(BaseModel):
    person_id: uuid.UUID
    person_name: str
    missing: list[MissingTopic]


class DepartmentAwareness(BaseModel):
    department: str | None = Field(description="null: people without a department")
    people: int = Field(description="Active people of the department")
    covered: int = Field(description="Of them, those holding every awareness topic")
    coverage: float = Field(description="covered ÷ people (1.0 when people is 0)")
    missing: list[PersonMissingAwareness]


class AwarenessRead(BaseModel):
    as_of: date
    topics: list[CompetenceRead] = Field(description="Competences flagged `awareness`")
    people: int
    covered: int
    coverage: float
    departments: list[DepartmentAwareness]
