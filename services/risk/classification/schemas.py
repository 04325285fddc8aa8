"""API and event models of the classification domain."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.risk.classification.procedure import (
    AnnexIIICarveOut,
    Answers,
    Art5Exception,
    ClassificationWarning,
    ExemptionCondition,
    Obligation,
    Route,
    ScopeExclusion,
    Tier,
)
from shared.http import Page


class ReclassificationRequest(BaseModel):
    """Set when facts the classification relied on changed in the inventory."""

    requested_at: datetime
    changed_facts: list[str]


class ClassificationRead(BaseModel):
    """One stored classification of an AI system (the newest is current)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    system_id: uuid.UUID
    org_id: uuid.UUID
    version: int = Field(description="1, 2, … per system; the newest is current")
    current: bool
    tier: Tier
    risk_level: str | None = Field(description="For now the tier (mirrored by the inventory)")
    route: Route
    articles: list[str]
    obligations: list[Obligation]
    reasons: list[str]
    prohibited_practices: list[str] = []
    annex_iii_area: str | None = None
    annex_iii_point: str | None = None
    exemption: ExemptionCondition | None = None
    transparency: list[str] = []
    gpai_model: bool
    gpai_systemic_risk: bool
    scope_exclusion: ScopeExclusion | None = Field(
        default=None, description="The Art. 2 exclusion that puts the system outside the Act"
    )
    art5_exceptions: list[Art5Exception] = Field(
        default=[], description="Art. 5 exceptions that hold (the practice is not prohibited)"
    )
    annex_iii_points: list[str] = Field(
        default=[],
        description="Every Annex III point the system falls under (`annex_iii_point` is the first)",
    )
    annex_iii_carve_outs: list[AnnexIIICarveOut] = Field(
        default=[], description="Uses an Annex III point itself excludes"
    )
    annex_i_section: str | None = Field(default=None, description="Annex I section (A or B)")
    annex_i_legislation: str | None = Field(
        default=None, description="The Annex I Union harmonisation legislation"
    )
    exemption_documented_by_provider: bool = Field(
        default=False,
        description="The Art. 6(3) derogation is the provider's documented assessment that "
        "this organisation (not the provider) relies on",
    )
    gpai_open_source: bool = False
    warnings: list[ClassificationWarning] = Field(
        default=[],
        description="Inventory facts (sector, intended purpose) the answers seem to contradict",
    )
    answers: Answers
    classified_at: datetime
    classified_by: str
    reclassification_requested: ReclassificationRequest | None = None


ClassificationPage = Page[ClassificationRead]


class ClassificationList(BaseModel):
    """Current classifications of the systems asked for (systems never classified are absent)."""

    items: list[ClassificationRead]


class ClassificationSummary(BaseModel):
    """The fields of a classification a list or dashboard shows (``view=summary``): no
    obligations, reasons or answers."""

    id: uuid.UUID
    system_id: uuid.UUID
    version: int
    current: bool
    tier: Tier
    risk_level: str | None = Field(description="For now the tier (mirrored by the inventory)")
    route: Route
    role: str = Field(description="The organisation's role for the system (Art. 3)")
    articles: list[str]
    classified_at: datetime
    classified_by: str
    reclassification_requested: ReclassificationRequest | None = None


class ClassificationSummaryList(BaseModel):
    """Current classifications of the systems asked for, summarised (``view=summary``)."""

    items: list[ClassificationSummary]


class ClassificationNeeded(BaseModel):
    system_id: uuid.UUID
    name: str
    reason: Literal["never_classified", "reclassification_requested"]
    current_version: int | None = None
    reclassification_requested: ReclassificationRequest | None = None


ClassificationNeededPage = Page[ClassificationNeeded]


class QuestionOption(BaseModel):
    value: str
    label: str
    ref: str | None = None
    group: str | None = Field(default=None, description="e.g. the Annex III area of a point")


class Question(BaseModel):
    id: str = Field(description="The field of the answers this question fills")
    text: str
    kind: Literal["single", "multiple", "boolean", "text"]
    required: bool
    refs: list[str] = []
    options: list[QuestionOption] = []
    help: str | None = None
    shown_when: str | None = Field(
        default=None,
        description="When a renderer should ask it: `field` (that answer is given and not "
        "false/empty), `field=value`, `field!=value`, several joined by `&`",
    )


class Questionnaire(BaseModel):
    regulation: str
    questions: list[Question]
