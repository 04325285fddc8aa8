"""Bodies of the readiness API (and the data of its events)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.evidence.readiness.rules import (
    ClauseState,
    ControlState,
    Freshness,
    Severity,
    Stage,
    Verdict,
)
from services.evidence.readiness.timeline import MilestoneKind, TargetKind
from shared.http import Page
from shared.text import Name

# Days the timeline can plan backwards from (a year and more) and forwards to (recertification,
# three years on) without leaving the calendar, as the other domains' days.
Day = Annotated[date, Field(ge=date(1900, 1, 1), le=date(9998, 12, 31))]


class Source(enum.StrEnum):
    LIVE = "live"
    SNAPSHOT = "snapshot"


class EvidenceSummary(BaseModel):
    approved: int = Field(description="Approved evidence in force (review-by not passed)")
    stale: int = Field(description="Approved evidence past its review-by date, or expired")
    draft: int = Field(description="Draft or in-review evidence")
    evidence_ids: list[uuid.UUID] = Field(description="The evidence behind it, best first (≤10)")
    review_by: date | None = Field(description="Review-by date of the best approved evidence")
    last_approved_at: datetime | None = Field(
        description="When the newest approved evidence last changed"
    )
    freshness: Freshness = Field(
        description="`current`, `due_soon` (review-by within 30 days), `stale` or `none`"
    )


class ClauseStatusRead(BaseModel):
    clause: str
    title: str
    status: ClauseState
    reason: str
    evidence: EvidenceSummary
    documented_information: list[str] = Field(description="Mandatory DI items of the clause")


class ControlStatusRead(BaseModel):
    control: str
    title: str
    status: ControlState
    applicability: str
    reason: str
    evidence: EvidenceSummary


class BlockerRead(BaseModel):
    key: str = Field(description="Stable identity: `code:subject`")
    code: str
    title: str
    what_to_do: str
    owner: str
    where_to_fix: str = Field(description="The REST call (service: method path) or GraphQL hint")
    stage: Stage = Field(description="The audit stage it blocks")
    severity: Severity
    subject: str | None = Field(description="What it is about: a system, control, item, owner…")
    count: int = Field(description="How many items it stands for (grouped blockers)")
    subject_ids: list[str] = Field(description="The first items it stands for (≤10)")


class RuleRead(BaseModel):
    id: str
    stage: Stage
    description: str
    passed: bool
    blocker_codes: list[str]


class ReadinessRead(BaseModel):
    source: Source = Field(
        description="`live`: computed now from the current data; `snapshot`: the stored snapshot "
        "that was current at the requested time, with the clause and control statuses as "
        "computed at its `as_of` (empty in a snapshot taken before snapshots kept them)"
    )
    as_of: datetime = Field(description="The time this readiness is as of")
    as_of_date: date = Field(description="The day review-by and due dates are compared with")
    snapshot_id: uuid.UUID | None = None
    verdict: Verdict
    verdict_label: str = Field(description="`not ready`, `ready for Stage 1`, `ready for Stage 2`")
    verdict_reason: str
    score: int = Field(ge=0, le=100)
    rules: list[RuleRead]
    blocker_counts: dict[str, int]
    blockers_total: int
    blockers: list[BlockerRead] = Field(description="Stage 1 first, then by severity")
    clauses: list[ClauseStatusRead]
    controls: list[ControlStatusRead] = Field(description="The applicable Annex A controls")


class SnapshotRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: int
    computed_at: datetime
    as_of: date
    score: int
    verdict: Verdict
    blocker_counts: dict[str, int]
    blockers_total: int
    trigger: str


SnapshotPage = Page[SnapshotRead]


class ReadinessChanged(BaseModel):
    """Data of ``readiness.changed``: the new verdict and score, with what changed (bounded)."""

    org_id: uuid.UUID
    snapshot_id: uuid.UUID
    number: int
    computed_at: datetime
    as_of: date
    score: int
    verdict: Verdict
    previous_score: int | None
    previous_verdict: Verdict | None
    blocker_counts: dict[str, int]
    blockers_total: int
    added: list[str] = Field(description="Blocker keys that appeared (≤20)")
    removed: list[str] = Field(description="Blocker keys that went away (≤20)")
    statuses_changed: list[str] = Field(
        default_factory=list,
        description="Clauses and controls whose status moved, as `clause:9.2` or "
        "`control:A.6.2.4` (≤20; empty when the previous snapshot kept no statuses)",
    )


# --- Remediation plan -----------------------------------------------------------------------


class RemediationTask(BaseModel):
    priority: int = Field(description="1 = first")
    blocker_key: str
    code: str
    title: str
    what_to_do: str
    owner: str
    where_to_fix: str
    stage: Stage
    severity: Severity
    count: int
    due_date: date
    due_basis: str = Field(description="Where the due date comes from")
    late: bool = Field(description="The due date has passed")


class RemediationPlanRead(BaseModel):
    as_of: datetime
    verdict: Verdict
    score: int
    tasks: list[RemediationTask]
    count: int
    target_reachable: bool | None = Field(
        description="Whether the certification plan's target can still be met (null: no plan)"
    )
    target_reason: str | None


# --- Certification plan -----------------------------------------------------------------------


class PlanOptionsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    readiness_weeks: int = Field(6, ge=4, le=8, description="Readiness assessment, 4–8 weeks")
    remediation_months: int = Field(4, ge=3, le=6, description="Remediation, 3–6 months")
    internal_audit_days: int = Field(10, ge=1, le=60)
    management_review_days: int = Field(1, ge=1, le=10)
    stage1_days: int = Field(2, ge=1, le=5, description="Stage 1 audit, typically 1–2 days")
    stage2_days: int = Field(5, ge=3, le=60, description="Stage 2 audit, 3–9+ days")
    days_audit_to_review: int = Field(14, ge=1, le=180)
    days_review_to_stage1: int = Field(14, ge=1, le=180)
    days_stage1_to_stage2: int = Field(30, ge=1, le=365)
    surveillance_days: int = Field(2, ge=1, le=30)
    recertification_days: int = Field(3, ge=1, le=60)


class CertificationPlanPut(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"target_date": "2027-09-01", "target": "stage2"}]},
    )

    target_date: Day = Field(description="Start of the targeted audit")
    target: TargetKind = Field(TargetKind.STAGE2, description="`stage2` (default) or `stage1`")
    options: PlanOptionsBody = Field(default_factory=PlanOptionsBody)
    aims_lead: Name | None = Field(None, description="Owner of tasks nobody else owns")
    certification_body: Name | None = None


class MilestoneStatus(enum.StrEnum):
    PLANNED = "planned"
    DONE = "done"
    OVERDUE = "overdue"


class MilestoneRead(BaseModel):
    id: uuid.UUID
    org_id: uuid.UUID
    plan_id: uuid.UUID
    kind: MilestoneKind
    ordinal: int
    title: str
    planned_start: date
    planned_end: date
    done_on: date | None
    status: MilestoneStatus
    overdue_notified_at: datetime | None
    version: int


class MilestoneUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    done_on: Day | None = Field(description="The day it was done (null: not done)")


class CertificationPlanRead(BaseModel):
    id: uuid.UUID
    org_id: uuid.UUID
    version: int
    target: TargetKind
    target_date: date
    options: PlanOptionsBody
    aims_lead: str | None
    certification_body: str | None
    stage2_start: date
    reachable: bool = Field(description="Whether the target can still be met from today")
    compressed: bool = Field(description="The plan had to use the minimum durations")
    reason: str
    earliest_stage2_start: date = Field(
        description="The earliest Stage 2 start from today with the minimum durations"
    )
    milestones: list[MilestoneRead]
    created_at: datetime
    updated_at: datetime
    updated_by: str


class RiskData(BaseModel):
    """The part of ``aims.risk.risk.*`` (``RiskRead``) readiness reads (and reviews keep)."""

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    org_id: uuid.UUID
    system_id: uuid.UUID | None = None
    title: str
    status: str
    inherent_level: str | None = None
    residual_level: str | None = None
    next_review_at: datetime | None = None
    owner: str | None = None
