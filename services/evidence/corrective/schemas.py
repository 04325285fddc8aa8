"""Request and response bodies of the nonconformity and corrective action API (and the data of
its events)."""

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

from shared.http import Page
from shared.text import Name, no_nul

MAX_WHYS = 5

# Dates the scheduler can add a day to (an overdue notice fires the day after the due date)
# and the readiness and review arithmetic can add a year to, without overflowing.
Day = Annotated[date, Field(ge=date(1900, 1, 1), le=date(9998, 12, 31))]

# Prose that must say something: 1 to 20,000 characters, no NUL.
Statement = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000),
    AfterValidator(no_nul),
]
Notes = Annotated[str, StringConstraints(max_length=20_000), AfterValidator(no_nul)]
Owner = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=320),
    AfterValidator(no_nul),
]


class Severity(enum.StrEnum):
    MAJOR = "major"
    MINOR = "minor"


class NonconformityStatus(enum.StrEnum):
    OPEN = "open"
    CORRECTION_DONE = "correction_done"
    ACTION_PLANNED = "action_planned"
    AWAITING_VERIFICATION = "awaiting_verification"
    CLOSED = "closed"


class ActionStatus(enum.StrEnum):
    PLANNED = "planned"
    IMPLEMENTED = "implemented"
    VERIFIED_EFFECTIVE = "verified_effective"
    VERIFIED_INEFFECTIVE = "verified_ineffective"
    CLOSED = "closed"


class VerificationMethod(enum.StrEnum):
    FOLLOW_UP_AUDIT = "follow_up_audit"
    RECORD_REVIEW = "record_review"
    OBSERVATION = "observation"
    TEST = "test"
    OTHER = "other"


class VerificationResult(enum.StrEnum):
    EFFECTIVE = "effective"
    INEFFECTIVE = "ineffective"


def _not_null(model: BaseModel, names: tuple[str, ...]) -> None:
    for name in names:
        if name in model.model_fields_set and getattr(model, name) is None:
            raise ValueError(f"{name} cannot be null")


class Why(BaseModel):
    """One step of a "5 whys" root cause analysis."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)

    why: Statement = Field(description="The question asked at this step")
    because: Statement = Field(description="The answer, which the next step asks about")


# --- Nonconformities --------------------------------------------------------------------------


class NonconformityCreate(BaseModel):
    """A nonconformity found outside an internal audit (an incident, a complaint, a review).
    Audit findings of kind major/minor nonconformity open theirs automatically."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "Model deployed without the approved impact assessment",
                    "severity": "major",
                    "owner": "ml-lead@example.com",
                    "due_date": "2027-03-31",
                }
            ]
        },
    )

    title: Name
    description: Notes = ""
    severity: Severity
    owner: Owner | None = None
    due_date: Day | None = None


class NonconformityUpdate(BaseModel):
    """A partial update: record the correction (10.2 a), the root cause as "5 whys" (10.2 b),
    the owner and due date. `root_cause_whys` replaces the whole list."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "correction": "Rolled the model back to the assessed version.",
                    "correction_done_on": "2027-02-04",
                    "root_cause_whys": [
                        {
                            "why": "Why was the model deployed unassessed?",
                            "because": "The release checklist has no impact-assessment step.",
                        },
                        {
                            "why": "Why has the checklist no such step?",
                            "because": "It predates the AIMS and was never reviewed.",
                        },
                    ],
                    "root_cause": "Release procedure not aligned with 8.4.",
                }
            ]
        },
    )

    title: Name | None = None
    description: Notes | None = None
    severity: Severity | None = None
    owner: Owner | None = None
    due_date: Day | None = None
    correction: Statement | None = None
    correction_done_on: Day | None = None
    root_cause_whys: list[Why] | None = Field(default=None, max_length=MAX_WHYS)
    root_cause: Statement | None = None

    @model_validator(mode="after")
    def _check(self) -> NonconformityUpdate:
        _not_null(self, ("title", "description", "severity", "root_cause_whys"))
        return self


class NonconformityClose(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notes: Notes = ""


class NonconformityRead(BaseModel):
    """The full state of a nonconformity; also the data of ``nonconformity.*`` events."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    finding_id: uuid.UUID | None
    severity: Severity
    title: str
    description: str
    status: NonconformityStatus
    owner: str | None
    due_date: date | None
    correction: str | None
    correction_done_on: date | None
    root_cause_whys: list[Why]
    root_cause: str | None
    actions_total: int
    actions_verified_effective: int
    close_blockers: list[str] = Field(
        description="What must still be recorded before it may close: `correction`, "
        "`root_cause`, `corrective_action`, `action_not_verified_effective` (one per action)"
    )
    closed_at: datetime | None
    closed_by: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


NonconformityPage = Page[NonconformityRead]

# --- Corrective actions -----------------------------------------------------------------------


class CorrectiveActionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "description": "Add an impact-assessment gate to the release checklist.",
                    "owner": "release-manager@example.com",
                    "due_date": "2027-03-15",
                }
            ]
        },
    )

    description: Statement
    owner: Owner
    due_date: Day


class CorrectiveActionUpdate(BaseModel):
    """A partial update of an action not yet verified effective. A new due date re-arms the
    overdue notice."""

    model_config = ConfigDict(extra="forbid")

    description: Statement | None = None
    owner: Owner | None = None
    due_date: Day | None = None

    @model_validator(mode="after")
    def _check(self) -> CorrectiveActionUpdate:
        _not_null(self, tuple(self.model_fields_set))
        return self


class CorrectiveActionImplement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notes: Notes = ""


class CorrectiveActionVerify(BaseModel):
    """The follow-up that verified the action's effectiveness (10.2 d). The verifier is the
    caller, who must not be the action's owner or whoever recorded its implementation."""

    model_config = ConfigDict(extra="forbid")

    result: VerificationResult
    method: VerificationMethod
    verified_on: Day | None = Field(default=None, description="Defaults to today (UTC)")
    notes: Notes = ""


class CorrectiveActionRead(BaseModel):
    """The full state of a corrective action; also the data of ``corrective_action.*``."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    nonconformity_id: uuid.UUID
    description: str
    owner: str
    due_date: date
    status: ActionStatus
    overdue: bool = Field(description="The due date has passed and it is not verified effective")
    implemented_at: datetime | None
    implemented_by: str | None
    implementation_notes: str
    verified_at: datetime | None
    verified_on: date | None
    verified_by: str | None
    verification_method: VerificationMethod | None
    verification_notes: str
    closed_at: datetime | None
    overdue_notified_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


CorrectiveActionPage = Page[CorrectiveActionRead]
