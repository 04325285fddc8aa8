"""Request and response bodies of the internal audit API (and the data of its events)."""

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
    model_validator,
)

from shared.http import Page
from shared.text import Name, Prose, no_nul

MAX_CLAUSES = 100
MAX_CONTROLS = 100
MAX_SYSTEMS = 200
MAX_AUDITORS = 20
MAX_EVIDENCE_SAMPLED = 200
MAX_FINDING_LINKS = 50

# Dates the readiness and review arithmetic (a year back, a day on) can use without overflowing.
Day = Annotated[date, Field(ge=date(1900, 1, 1), le=date(9998, 12, 31))]

Ref = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(no_nul),
]
Auditor = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=320),
    AfterValidator(no_nul),
]


class AuditStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class FindingKind(enum.StrEnum):
    MAJOR_NONCONFORMITY = "major_nonconformity"
    MINOR_NONCONFORMITY = "minor_nonconformity"
    OBSERVATION = "observation"
    OPPORTUNITY_FOR_IMPROVEMENT = "opportunity_for_improvement"

    @property
    def severity(self) -> str | None:
        """The severity of the nonconformity this kind opens (None: it opens none)."""
        return {"major_nonconformity": "major", "minor_nonconformity": "minor"}.get(self.value)


class FindingStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class FindingTargetType(enum.StrEnum):
    CLAUSE = "clause"
    CONTROL = "control"
    SYSTEM = "system"
    RISK = "risk"
    EVIDENCE = "evidence"


def _not_null(model: BaseModel, names: tuple[str, ...]) -> None:
    for name in names:
        if name in model.model_fields_set and getattr(model, name) is None:
            raise ValueError(f"{name} cannot be null")


# --- Programmes -------------------------------------------------------------------------------


class ProgrammeCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "Internal audit programme 2027",
                    "period_start": "2027-01-01",
                    "period_end": "2027-12-31",
                }
            ]
        },
    )

    title: Name
    description: Prose = ""
    period_start: Day = Field(description="First day of the cycle")
    period_end: Day = Field(description="Last day of the cycle (inclusive)")

    @model_validator(mode="after")
    def _ordered(self) -> ProgrammeCreate:
        if self.period_end < self.period_start:
            raise ValueError("period_end must not be before period_start")
        return self


class ProgrammeUpdate(BaseModel):
    """A partial update: only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    title: Name | None = None
    description: Prose | None = None
    period_start: Day | None = None
    period_end: Day | None = None

    @model_validator(mode="after")
    def _check(self) -> ProgrammeUpdate:
        _not_null(self, ("title", "description", "period_start", "period_end"))
        return self


class ProgrammeRead(BaseModel):
    """The full state of an audit programme; also the data of ``audit_programme.changed``."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    title: str
    description: str
    period_start: date
    period_end: date
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


ProgrammePage = Page[ProgrammeRead]


class CoverageGap(BaseModel):
    id: str
    title: str


class CoverageRead(BaseModel):
    """Which assessable clauses and applicable Annex A controls the programme's audits (all but
    cancelled ones) cover, and the gaps."""

    programme_id: uuid.UUID
    period_start: date
    period_end: date
    audits_counted: int
    controls_basis: str = Field(
        description="`soa`: applicable = included in the current approved SoA (number "
        "`soa_number`); `no_approved_soa`: no SoA is approved yet, so every Annex A control "
        "counts as applicable"
    )
    soa_number: int | None
    clauses_assessable: int
    clauses_covered: int
    controls_applicable: int
    controls_covered: int
    clause_gaps: list[CoverageGap]
    control_gaps: list[CoverageGap]
    complete: bool


class CoverageList(BaseModel):
    """``GET /v1/coverage-by-programme``: one entry per programme asked that exists, in the
    order asked."""

    items: list[CoverageRead]


# --- Audits -----------------------------------------------------------------------------------


class AuditCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "programme_id": "01900000-0000-7000-8000-000000000001",
                    "title": "Q1: risk management and impact assessment",
                    "criteria": "ISO/IEC 42001:2023 clauses 6.1 and 8; AI policy v3",
                    "planned_start": "2027-02-01",
                    "planned_end": "2027-02-03",
                    "clauses": ["6.1", "8.2", "8.3", "8.4"],
                    "controls": ["A.5.2", "A.5.3"],
                    "systems": [],
                    "lead_auditor": "auditor@example.com",
                    "auditors": ["second.auditor@example.com"],
                }
            ]
        },
    )

    programme_id: uuid.UUID | None = None
    title: Name
    criteria: Prose = ""
    planned_start: Day
    planned_end: Day
    clauses: list[Ref] = Field(default_factory=list, max_length=MAX_CLAUSES)
    controls: list[Ref] = Field(default_factory=list, max_length=MAX_CONTROLS)
    systems: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_SYSTEMS)
    lead_auditor: Auditor = Field(description="E-mail address or subject of the lead auditor")
    auditors: list[Auditor] = Field(default_factory=list, max_length=MAX_AUDITORS)
    evidence_sampled: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_EVIDENCE_SAMPLED)

    @model_validator(mode="after")
    def _ordered(self) -> AuditCreate:
        if self.planned_end < self.planned_start:
            raise ValueError("planned_end must not be before planned_start")
        return self


class AuditUpdate(BaseModel):
    """A partial update of a planned or in-progress audit; lists replace the whole list."""

    model_config = ConfigDict(extra="forbid")

    title: Name | None = None
    criteria: Prose | None = None
    planned_start: Day | None = None
    planned_end: Day | None = None
    clauses: list[Ref] | None = Field(default=None, max_length=MAX_CLAUSES)
    controls: list[Ref] | None = Field(default=None, max_length=MAX_CONTROLS)
    systems: list[uuid.UUID] | None = Field(default=None, max_length=MAX_SYSTEMS)
    lead_auditor: Auditor | None = None
    auditors: list[Auditor] | None = Field(default=None, max_length=MAX_AUDITORS)
    evidence_sampled: list[uuid.UUID] | None = Field(default=None, max_length=MAX_EVIDENCE_SAMPLED)
    conclusion: Prose | None = None

    @model_validator(mode="after")
    def _check(self) -> AuditUpdate:
        _not_null(self, tuple(self.model_fields_set))
        return self


class AuditStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    started_on: Day | None = Field(
        default=None, description="Defaults to today (UTC); an earlier day records it late"
    )


class AuditComplete(BaseModel):
    model_config = ConfigDict(extra="forbid")

    completed_on: Day | None = Field(default=None, description="Defaults to today (UTC)")
    conclusion: Prose | None = None


class AuditRead(BaseModel):
    """The full state of an audit; also the data of ``audit.*`` events (lists are bounded by
    the request limits)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    programme_id: uuid.UUID | None
    title: str
    criteria: str
    status: AuditStatus
    planned_start: date
    planned_end: date
    started_on: date | None
    completed_on: date | None
    cancelled_at: datetime | None
    clauses: list[str]
    controls: list[str]
    systems: list[str]
    lead_auditor: str
    auditors: list[str]
    evidence_sampled: list[str]
    conclusion: str
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


AuditPage = Page[AuditRead]

# --- Findings ---------------------------------------------------------------------------------


class FindingLink(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target_type: FindingTargetType
    target_id: Ref = Field(
        description="A clause id (`9.2`), an Annex A control (`A.6.2.8`), or the UUID of a "
        "system, risk or evidence item"
    )


class FindingCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "minor_nonconformity",
                    "title": "Impact assessment of the CV screener not reviewed after retraining",
                    "description": "8.4 requires… the record is dated before the model change.",
                    "links": [
                        {"target_type": "clause", "target_id": "8.4"},
                        {"target_type": "control", "target_id": "A.5.2"},
                    ],
                }
            ]
        },
    )

    kind: FindingKind
    title: Name
    description: Prose = ""
    links: list[FindingLink] = Field(min_length=1, max_length=MAX_FINDING_LINKS)


class FindingUpdate(BaseModel):
    """A partial update. `status` applies to observations and opportunities for improvement;
    a nonconformity finding closes with its nonconformity. An observation may be raised to a
    nonconformity (which opens one), not the reverse."""

    model_config = ConfigDict(extra="forbid")

    kind: FindingKind | None = None
    title: Name | None = None
    description: Prose | None = None
    links: list[FindingLink] | None = Field(
        default=None, min_length=1, max_length=MAX_FINDING_LINKS
    )
    status: FindingStatus | None = None

    @model_validator(mode="after")
    def _check(self) -> FindingUpdate:
        _not_null(self, tuple(self.model_fields_set))
        return self


class FindingRead(BaseModel):
    """The full state of a finding; also the data of ``finding.raised`` / ``finding.updated``."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    audit_id: uuid.UUID
    kind: FindingKind
    title: str
    description: str
    status: FindingStatus
    links: list[dict[str, Any]]
    nonconformity_id: uuid.UUID | None = Field(
        default=None, description="The nonconformity a major/minor nonconformity opened"
    )
    raised_by: str
    raised_at: datetime
    closed_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


FindingPage = Page[FindingRead]


class IndependenceReason(BaseModel):
    auditor: str
    kind: str
    target_type: str
    target_id: str
    detail: str
