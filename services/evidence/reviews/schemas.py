"""Request and response bodies of the management review API (and the data of its events)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.evidence.readiness.schemas import RiskData
from shared.http import Page
from shared.text import Name, Prose


class ReviewStatus(enum.StrEnum):
    PLANNED = "planned"
    HELD = "held"
    CLOSED = "closed"


class ReviewActionStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class Section(enum.StrEnum):
    """The inputs of a management review (ISO/IEC 42001 9.3.2), by name."""

    PREVIOUS_ACTIONS = "previous_actions"  # a) status of actions from previous reviews
    CHANGES_IN_ISSUES = "changes_in_issues"  # b) external and internal issues
    CHANGES_IN_NEEDS = "changes_in_needs"  # c) needs and expectations of interested parties
    PERFORMANCE = "performance"  # d) nonconformities, corrective actions, audit results
    OBJECTIVES = "objectives"  # d) monitoring and measurement results: the AI objectives
    RISKS = "risks"  # risks and opportunities (6.1) as they stand
    DOCUMENTED_INFORMATION = "documented_information"
    OPPORTUNITIES_FOR_IMPROVEMENT = "opportunities_for_improvement"  # e)


# Dates the scheduler and the "as of" arithmetic can add a year to without overflowing.
Day = Annotated[date, Field(ge=date(1900, 1, 1), le=date(9998, 12, 31))]
Attendee = Annotated[Name, Field(max_length=200)]
Decision = Annotated[Prose, Field(min_length=1, max_length=4000)]
Notes = Annotated[dict[Section, Prose], Field(max_length=len(Section))]


class ManagementReviewCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "AIMS management review 2026",
                    "review_date": "2026-12-10",
                    "attendees": ["CEO", "Head of AI governance", "DPO"],
                    "notes": {"changes_in_issues": "New EU AI Act guidance on GPAI models."},
                }
            ]
        },
    )

    title: Name
    review_date: Day
    attendees: list[Attendee] = Field(default_factory=list, max_length=100)
    notes: Notes = Field(
        default_factory=dict, description="Free-text part of each input, by section name"
    )
    prefill: bool = Field(
        default=True,
        description="Fill the automatic part of each input now, from the data as of the review "
        "date (or today, if the review date is later)",
    )


class ManagementReviewUpdate(BaseModel):
    """A partial update. ``notes`` merges by section (send `""` to clear one); ``decisions``
    replaces the list. ``review_date`` changes only while the review is planned."""

    model_config = ConfigDict(extra="forbid")

    title: Name | None = None
    review_date: Day | None = None
    attendees: list[Attendee] | None = Field(default=None, max_length=100)
    notes: Notes | None = None
    decisions: list[Decision] | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _not_null(self) -> ManagementReviewUpdate:
        for name in type(self).model_fields:
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class ManagementReviewHold(BaseModel):
    """Record that the review took place."""

    model_config = ConfigDict(extra="forbid")

    held_on: Day | None = Field(default=None, description="Default: today (UTC); not future")
    attendees: list[Attendee] | None = Field(
        default=None, max_length=100, description="Who attended; replaces the list when sent"
    )
    decisions: list[Decision] | None = Field(default=None, max_length=100)


class ManagementReviewClose(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decisions: list[Decision] | None = Field(
        default=None, max_length=100, description="The final decisions; replaces the list"
    )


class ReviewInput(BaseModel):
    """One input of 9.3.2: what AIMS filled in from its data, and what people wrote."""

    auto: dict[str, Any] | None = Field(
        description="Filled from the data as of `prefill_as_of`; null when AIMS holds no data "
        "for this input (see `auto_note`) or the review was not pre-filled yet"
    )
    auto_note: str | None = Field(default=None, description="Why `auto` is null, when it is")
    notes: str = Field(description="Free text")


class ManagementReviewState(BaseModel):
    """A management review without its inputs; the data of ``aims.evidence.management_review.*``
    (bounded: the pre-filled snapshot is read over REST)."""

    id: uuid.UUID
    org_id: uuid.UUID
    title: str
    review_date: date
    status: ReviewStatus
    held_on: date | None
    closed_at: datetime | None
    attendees: list[str]
    decisions: list[str]
    prefill_as_of: date | None = Field(description="The day the automatic inputs describe")
    prefilled_at: datetime | None
    action_count: int
    open_action_count: int
    version: int = Field(description="Increases by one on every change; the ETag")
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


class ManagementReviewRead(ManagementReviewState):
    inputs: dict[Section, ReviewInput] = Field(description="Each input of 9.3.2, by section")


ManagementReviewPage = Page[ManagementReviewRead]


class ReviewActionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "Extend bias testing to the new hiring model",
                    "owner": "head-of-ml@example.com",
                    "due_date": "2027-03-31",
                }
            ]
        },
    )

    title: Name
    description: Prose = ""
    owner: Name
    due_date: Day


class ReviewActionUpdate(BaseModel):
    """A partial update; ``status`` `done` or `cancelled` ends the tracking, `open` reopens."""

    model_config = ConfigDict(extra="forbid")

    title: Name | None = None
    description: Prose | None = None
    owner: Name | None = None
    due_date: Day | None = None
    status: ReviewActionStatus | None = None

    @model_validator(mode="after")
    def _not_null(self) -> ReviewActionUpdate:
        for name in type(self).model_fields:
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class ReviewActionRead(BaseModel):
    """The full state of a review action; also the data of
    ``aims.evidence.management_review.action_*``."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    review_id: uuid.UUID
    title: str
    description: str
    owner: str
    due_date: date
    status: ReviewActionStatus
    overdue: bool = Field(description="Open and its due date has passed (UTC)")
    closed_at: datetime | None
    overdue_notified_at: datetime | None = Field(
        description="When `management_review.action_overdue` was emitted for this due date"
    )
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


ReviewActionPage = Page[ReviewActionRead]


# --- The organisation's context, as the inventory announces it (9.3.2 b, c) -------------------


class ContextIssueData(BaseModel):
    """What a review keeps of ``aims.inventory.context_issue.*`` (an issue of 4.1)."""

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    org_id: uuid.UUID
    kind: str
    framework: str = ""
    category: str = ""
    title: str
    impact: str = ""
    owner: str | None = None
    created_at: datetime
    updated_at: datetime

    def shown(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "framework": self.framework,
            "category": self.category,
            "impact": self.impact[:2000],
            "owner": self.owner,
        }


class PartyRequirementData(BaseModel):
    model_config = ConfigDict(extra="ignore")

    text: str
    addressed: bool = False


class InterestedPartyData(BaseModel):
    """What a review keeps of ``aims.inventory.interested_party.*`` (a party of 4.2)."""

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    org_id: uuid.UUID
    name: str
    type: str
    requirements: list[PartyRequirementData] = Field(default_factory=list)
    owner: str | None = None
    created_at: datetime
    updated_at: datetime

    def shown(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "owner": self.owner,
            "requirements": [r.model_dump() for r in self.requirements[:50]],
            "requirements_total": len(self.requirements),
            "requirements_unaddressed": sum(not r.addressed for r in self.requirements),
        }


class RiskVersionData(RiskData):
    """What a review keeps of ``aims.risk.risk.*`` (a risk of the register, 6.1): what readiness
    reads, with the times of the version."""

    created_at: datetime
    updated_at: datetime

    def shown(self) -> dict[str, Any]:
        return {
            "system_id": str(self.system_id) if self.system_id else None,
            "status": self.status,
            "inherent_level": self.inherent_level,
            "residual_level": self.residual_level,
            "owner": self.owner,
            "next_review_at": self.next_review_at.isoformat() if self.next_review_at else None,
        }
