"""API and event models of the classification domain."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.risk.classification.procedure import (
    Answers,
    ExemptionCondition,
    Obligation,
    Route,
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
    answers: Answers
    classified_at: datetime
    classified_by: str
    reclassification_requested: ReclassificationRequest | None = None


ClassificationPage = Page[ClassificationRead]


class ClassificationList(BaseModel):
    """Current classifications of the systems asked for (systems never classified are absent)."""

    items: list[ClassificationRead]


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
    shown_when: str | None = Field(default=None, description="When a renderer should ask it")


class Questionnaire(BaseModel):
    regulation: str
    questions: list[Question]
