"""Client of the evidence service's readiness verdict, remediation plan and certification plan.

The audit package, OSCAL and HTML exports are served by the gateway itself over REST
(``/v1/exports/…``, see ``gateway.exports``), not through this client.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import Field

from gateway.clients.base import UpstreamClient
from gateway.clients.schemas import UpstreamModel, UpstreamPage


class UpstreamEvidenceSummary(UpstreamModel):
    approved: int
    stale: int
    draft: int
    evidence_ids: list[uuid.UUID] = Field(default_factory=list)
    review_by: date | None = None
    last_approved_at: datetime | None = None
    freshness: str


class UpstreamClauseStatus(UpstreamModel):
    clause: str
    title: str
    status: str
    reason: str
    evidence: UpstreamEvidenceSummary
    documented_information: list[str] = Field(default_factory=list)


class UpstreamControlStatus(UpstreamModel):
    control: str
    title: str
    status: str
    applicability: str
    reason: str
    evidence: UpstreamEvidenceSummary


class UpstreamBlocker(UpstreamModel):
    key: str
    code: str
    title: str
    what_to_do: str
    owner: str
    where_to_fix: str
    stage: str
    severity: str
    subject: str | None = None
    count: int
    subject_ids: list[str] = Field(default_factory=list)


class UpstreamRule(UpstreamModel):
    id: str
    stage: str
    description: str
    passed: bool
    blocker_codes: list[str] = Field(default_factory=list)


class UpstreamReadiness(UpstreamModel):
    """``ReadinessRead``."""

    source: str
    as_of: datetime
    as_of_date: date
    snapshot_id: uuid.UUID | None = None
    verdict: str
    verdict_label: str
    verdict_reason: str
    score: int
    rules: list[UpstreamRule] = Field(default_factory=list)
    blocker_counts: dict[str, int] = Field(default_factory=dict)
    blockers_total: int
    blockers: list[UpstreamBlocker] = Field(default_factory=list)
    clauses: list[UpstreamClauseStatus] = Field(default_factory=list)
    controls: list[UpstreamControlStatus] = Field(default_factory=list)


class UpstreamSnapshot(UpstreamModel):
    """``SnapshotRead``."""

    id: uuid.UUID
    number: int
    computed_at: datetime
    as_of: date
    score: int
    verdict: str
    blocker_counts: dict[str, int] = Field(default_factory=dict)
    blockers_total: int
    trigger: str


class UpstreamRemediationTask(UpstreamModel):
    priority: int
    blocker_key: str
    code: str
    title: str
    what_to_do: str
    owner: str
    where_to_fix: str
    stage: str
    severity: str
    count: int
    due_date: date
    due_basis: str
    late: bool


class UpstreamRemediationPlan(UpstreamModel):
    """``RemediationPlanRead``."""

    as_of: datetime
    verdict: str
    score: int
    tasks: list[UpstreamRemediationTask] = Field(default_factory=list)
    count: int
    target_reachable: bool | None = None
    target_reason: str | None = None


class UpstreamPlanOptions(UpstreamModel):
    readiness_weeks: int
    remediation_months: int
    internal_audit_days: int
    management_review_days: int
    stage1_days: int
    stage2_days: int
    days_audit_to_review: int
    days_review_to_stage1: int
    days_stage1_to_stage2: int
    surveillance_days: int
    recertification_days: int


class UpstreamMilestone(UpstreamModel):
    """``MilestoneRead``."""

    id: uuid.UUID
    plan_id: uuid.UUID
    kind: str
    ordinal: int
    title: str
    planned_start: date
    planned_end: date
    done_on: date | None = None
    status: str
    version: int


class UpstreamCertificationPlan(UpstreamModel):
    """``CertificationPlanRead``."""

    id: uuid.UUID
    version: int
    target: str
    target_date: date
    options: UpstreamPlanOptions
    aims_lead: str | None = None
    certification_body: str | None = None
    stage2_start: date
    reachable: bool
    compressed: bool
    reason: str
    earliest_stage2_start: date
    milestones: list[UpstreamMilestone] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    updated_by: str


class ReadinessClient(UpstreamClient):
    service = "evidence"

    async def readiness(self, as_of: str | None = None) -> UpstreamReadiness:
        params = [("as_of", as_of)] if as_of is not None else None
        return await self._get("/v1/readiness", UpstreamReadiness, params=params)

    async def recompute(self) -> UpstreamReadiness:
        response = await self._send("POST", "/v1/readiness/recompute")
        return UpstreamReadiness.model_validate_json(response.content)

    async def history(
        self, *, limit: int, after: str | None = None
    ) -> UpstreamPage[UpstreamSnapshot]:
        params: list[tuple[str, str | int]] = [("limit", limit)]
        if after:
            params.append(("after", after))
        return await self._get(
            "/v1/readiness/history", UpstreamPage[UpstreamSnapshot], params=params
        )

    async def remediation_plan(self) -> UpstreamRemediationPlan:
        return await self._get("/v1/readiness/plan", UpstreamRemediationPlan)

    async def certification_plan(self) -> UpstreamCertificationPlan:
        return await self._get("/v1/certification-plan", UpstreamCertificationPlan)

    async def set_certification_plan(
        self, body: dict[str, Any], *, expected_version: int | None
    ) -> UpstreamCertificationPlan:
        headers = {"if-match": f'"{expected_version}"'} if expected_version is not None else None
        response = await self._send("PUT", "/v1/certification-plan", json=body, headers=headers)
        return UpstreamCertificationPlan.model_validate_json(response.content)

    async def update_milestone(
        self, milestone_id: uuid.UUID, done_on: date | None, *, expected_version: int
    ) -> UpstreamMilestone:
        response = await self._send(
            "PATCH",
            f"/v1/certification-plan/milestones/{milestone_id}",
            json={"done_on": done_on.isoformat() if done_on else None},
            headers={"if-match": f'"{expected_version}"'},
        )
        return UpstreamMilestone.model_validate_json(response.content)
