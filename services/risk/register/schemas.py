"""Request and response bodies of the register API (and the data of its events)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from services.risk.register.scoring import MatrixDefinition, MatrixPreset
from shared.http import Page

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
LongText = Annotated[str, StringConstraints(max_length=20_000)]
ControlId = Annotated[str, StringConstraints(strip_whitespace=True, max_length=16)]


class Entity(enum.StrEnum):
    HUMAN = "human"
    AI = "ai"
    OTHER = "other"


class Intent(enum.StrEnum):
    INTENTIONAL = "intentional"
    UNINTENTIONAL = "unintentional"
    OTHER = "other"


class Timing(enum.StrEnum):
    PRE_DEPLOYMENT = "pre_deployment"
    POST_DEPLOYMENT = "post_deployment"
    OTHER = "other"


class Stakeholder(enum.StrEnum):
    INDIVIDUALS = "individuals"
    GROUPS = "groups"
    SOCIETY = "society"


class Treatment(enum.StrEnum):
    MITIGATE = "mitigate"
    AVOID = "avoid"
    TRANSFER = "transfer"
    ACCEPT = "accept"


class RiskStatus(enum.StrEnum):
    OPEN = "open"
    TREATED = "treated"
    ACCEPTED = "accepted"
    CLOSED = "closed"
    REVIEW_DUE = "review_due"


# Statuses a person may set; ``accepted`` comes only from an acceptance, ``review_due`` only
# from a change of the system's facts or the review date passing.
SETTABLE_STATUSES = frozenset({RiskStatus.OPEN, RiskStatus.TREATED, RiskStatus.CLOSED})


class LifecycleStage(enum.StrEnum):
    IDEA = "idea"
    DESIGN = "design"
    DEVELOPMENT = "development"
    VALIDATION = "validation"
    DEPLOYED = "deployed"
    RETIRED = "retired"


class Basis(enum.StrEnum):
    INHERENT = "inherent"
    RESIDUAL = "residual"


# --- Matrices ---------------------------------------------------------------------------------


class RiskMatrixPut(BaseModel):
    """Choose a preset or give a definition (exactly one)."""

    model_config = ConfigDict(extra="forbid")

    preset: MatrixPreset | None = None
    definition: MatrixDefinition | None = None

    @model_validator(mode="after")
    def _one(self) -> RiskMatrixPut:
        if (self.preset is None) == (self.definition is None):
            raise ValueError("give either `preset` or `definition`")
        return self


class RiskMatrixRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    number: int = Field(description="The matrix version (1, 2, …); versions never change.")
    preset: str | None
    definition: MatrixDefinition
    created_at: datetime
    created_by: str


class RiskMatrixPage(Page[RiskMatrixRead]):
    pass


class ScoreMove(BaseModel):
    """One position before and after re-scoring (``None``: not scored)."""

    before: int | None
    after: int | None


class RescoreMove(BaseModel):
    """A risk whose scores or levels change when it moves onto the current matrix."""

    risk_id: uuid.UUID
    title: str
    from_matrix_version: int
    to_matrix_version: int
    inherent_from: str
    inherent_to: str
    residual_from: str | None
    residual_to: str | None
    likelihood: ScoreMove
    severity: ScoreMove
    residual_likelihood: ScoreMove
    residual_severity: ScoreMove
    level_changed: bool = Field(description="The inherent or residual level changed")
    acceptance_voided: bool = Field(
        description="The risk was accepted and its residual level changes, so the acceptance "
        "is voided (on a dry run: would be)"
    )


class RescoreReport(BaseModel):
    """What re-scoring moved. Positions move by their place on the scale
    (``(position - 1) / (size - 1)``): onto a coarser scale the highest position at or below that
    place, onto a finer one the lowest at or above it, so a trip through a coarser matrix and back
    never raises a score."""

    matrix_version: int
    dry_run: bool
    examined: int
    rescored: int = Field(description="Risks scored on an earlier matrix version")
    moved: list[RescoreMove] = Field(description="Each risk whose scores or levels change")


class ReviewCadences(BaseModel):
    days_by_level: dict[str, Annotated[int, Field(ge=1, le=3650)]]
    version: int = 0


class ReviewCadencesPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days_by_level: dict[str, Annotated[int, Field(ge=1, le=3650)]]


# --- Risks ------------------------------------------------------------------------------------


class Scores(BaseModel):
    likelihood: int = Field(ge=1, le=10)
    severity: int = Field(ge=1, le=10)
    residual_likelihood: int | None = Field(default=None, ge=1, le=10)
    residual_severity: int | None = Field(default=None, ge=1, le=10)

    @model_validator(mode="after")
    def _pair(self) -> Scores:
        if (self.residual_likelihood is None) != (self.residual_severity is None):
            raise ValueError("give residual likelihood and residual severity together")
        return self


class RiskCreate(Scores):
    model_config = ConfigDict(extra="forbid")

    system_id: uuid.UUID | None = Field(default=None, description="None = organisation-wide")
    title: Text
    description: LongText = ""
    domain_id: Annotated[str, StringConstraints(max_length=8)]
    subdomain_id: Annotated[str, StringConstraints(max_length=8)]
    entity: Entity
    intent: Intent
    timing: Timing
    affected_stakeholders: list[Stakeholder] = Field(default_factory=list, max_length=3)
    lifecycle_stage: LifecycleStage | None = None
    fundamental_rights: bool = False
    treatment: Treatment | None = None
    treatment_plan: LongText | None = None
    owner: Annotated[str, StringConstraints(max_length=200)] | None = None
    due_date: date | None = None
    control_ids: list[ControlId] = Field(default_factory=list, max_length=38)
    next_review_at: AwareDatetime | None = Field(
        default=None,
        description="When the risk is due for review; default: the assessment time plus the "
        "review cadence of its level. A date already past (e.g. an imported register) sends "
        "the risk to `review_due` within one scheduler interval.",
    )


class RiskUpdate(BaseModel):
    """A partial change; any of the four scores re-scores the risk on the current matrix."""

    model_config = ConfigDict(extra="forbid")

    system_id: uuid.UUID | None = None
    title: Text | None = None
    description: LongText | None = None
    domain_id: Annotated[str, StringConstraints(max_length=8)] | None = None
    subdomain_id: Annotated[str, StringConstraints(max_length=8)] | None = None
    entity: Entity | None = None
    intent: Intent | None = None
    timing: Timing | None = None
    affected_stakeholders: list[Stakeholder] | None = Field(default=None, max_length=3)
    lifecycle_stage: LifecycleStage | None = None
    fundamental_rights: bool | None = None
    treatment: Treatment | None = None
    treatment_plan: LongText | None = None
    owner: Annotated[str, StringConstraints(max_length=200)] | None = None
    due_date: date | None = None
    control_ids: list[ControlId] | None = Field(default=None, max_length=38)
    status: RiskStatus | None = None
    likelihood: int | None = Field(default=None, ge=1, le=10)
    severity: int | None = Field(default=None, ge=1, le=10)
    residual_likelihood: int | None = Field(default=None, ge=1, le=10)
    residual_severity: int | None = Field(default=None, ge=1, le=10)
    next_review_at: AwareDatetime | None = Field(
        default=None,
        description="A new review date; re-scoring without it sets the review date from the "
        "cadence. When it passes, the risk becomes `review_due` (`review.due` event).",
    )


class RiskAccept(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rationale: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=20, max_length=5000)
    ]


class RiskRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    version: int
    system_id: uuid.UUID | None
    title: str
    description: str
    domain_id: str
    subdomain_id: str
    entity: Entity
    intent: Intent
    timing: Timing
    affected_stakeholders: list[Stakeholder]
    lifecycle_stage: LifecycleStage | None
    fundamental_rights: bool
    matrix_version: int
    likelihood: int
    severity: int
    inherent_level: str
    residual_likelihood: int | None
    residual_severity: int | None
    residual_level: str | None
    assessed_at: datetime
    next_review_at: datetime | None
    treatment: Treatment | None
    treatment_plan: str | None
    owner: str | None
    due_date: date | None
    control_ids: list[str]
    status: RiskStatus
    above_tolerance: bool
    missing_controls: bool
    accepted_by: str | None
    accepted_at: datetime | None
    acceptance_rationale: str | None
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


class RiskPage(Page[RiskRead]):
    pass


class SystemRisks(BaseModel):
    """One system's risks: the first ones (oldest first) and how many match."""

    system_id: uuid.UUID
    total_count: int
    items: list[RiskRead]


class SystemRisksList(BaseModel):
    items: list[SystemRisks] = Field(description="One entry per system asked, in that order")


class RiskHistoryEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    action: str
    changed_by: str
    changed_at: datetime
    state: RiskRead


class RiskHistoryPage(Page[RiskHistoryEntry]):
    pass


class RiskSummary(BaseModel):
    """Per system: how many risks are open and the highest residual level among them."""

    id: uuid.UUID = Field(description="The system's id")
    open_count: int
    highest_residual_level: str | None


class RiskSummaryPage(Page[RiskSummary]):
    pass


class CellCount(BaseModel):
    likelihood: int
    severity: int
    count: int


class LevelCount(BaseModel):
    level: str
    count: int


class DomainCount(BaseModel):
    domain_id: str
    count: int


class SystemCount(BaseModel):
    system_id: uuid.UUID | None
    count: int


class RiskDashboard(BaseModel):
    basis: Basis
    matrix_version: int
    total: int
    cells: list[CellCount]
    levels: list[LevelCount]
    domains: list[DomainCount]
    systems: list[SystemCount]


class ReviewReason(enum.StrEnum):
    SYSTEM_FACTS_CHANGED = "system_facts_changed"
    REVIEW_DATE_PASSED = "review_date_passed"
    SYSTEM_REVIEW_DATE_PASSED = "system_review_date_passed"


class ReviewDue(BaseModel):
    """Data of ``review.due``: risks (or a system) need a review, and why.

    ``system_facts_changed``: a system's facts changed (``changed_facts``), so its open risks
    are due for review. ``review_date_passed``: one risk's ``next_review_at`` (``due_at``)
    passed (``system_id`` is null for an organisation-wide risk).
    ``system_review_date_passed``: the inventory's review date of a system (``due_at``) passed;
    ``risk_ids`` lists its risks that are not closed.
    """

    system_id: uuid.UUID | None
    risk_ids: list[uuid.UUID]
    changed_facts: list[str] = Field(default_factory=list)
    reason: ReviewReason = ReviewReason.SYSTEM_FACTS_CHANGED
    due_at: datetime | None = Field(
        default=None, description="The review date that passed (date-based reasons only)."
    )
