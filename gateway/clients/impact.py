"""Client of the risk service's impact assessments (ISO/IEC 42001 6.1.4, A.5.2–A.5.5)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from pydantic import Field

from gateway.clients.base import UpstreamClient
from gateway.clients.schemas import UpstreamModel, UpstreamPage


class UpstreamImpact(UpstreamModel):
    description: str
    severity: str
    likelihood: str | None = None


class UpstreamStakeholder(UpstreamModel):
    name: str
    how_affected: str


class UpstreamFundamentalRights(UpstreamModel):
    deployer_process: str | None = None
    period_and_frequency_of_use: str | None = None
    affected_person_categories: list[str] = Field(default_factory=list)
    specific_risks_of_harm: list[UpstreamImpact] = Field(default_factory=list)
    human_oversight_measures: str | None = None
    measures_if_risks_materialise: str | None = None


class ImpactAssessmentUpstream(UpstreamModel):
    """``ImpactAssessmentRead`` of the risk service."""

    id: uuid.UUID
    system_id: uuid.UUID
    status: str
    purpose: str | None = None
    stakeholders: list[UpstreamStakeholder] = Field(default_factory=list)
    legal_context: str | None = None
    social_context: str | None = None
    impacts_on_individuals: list[UpstreamImpact] = Field(default_factory=list)
    impacts_on_groups: list[UpstreamImpact] = Field(default_factory=list)
    impacts_on_society: list[UpstreamImpact] = Field(default_factory=list)
    fairness_and_bias: str | None = None
    mitigation_measures: list[str] = Field(default_factory=list)
    human_oversight: str | None = None
    monitoring: str | None = None
    fundamental_rights: UpstreamFundamentalRights | None = None
    next_review_at: date | None = None
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str
    submitted_by: str | None = None
    submitted_at: datetime | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    superseded_by: uuid.UUID | None = None
    superseded_at: datetime | None = None
    returned_by: str | None = None
    returned_at: datetime | None = None
    return_reason: str | None = None
    rejected_by: str | None = None
    rejected_at: datetime | None = None
    rejection_reason: str | None = None
    withdrawn_by: str | None = None
    withdrawn_at: datetime | None = None
    withdrawal_reason: str | None = None


class RequiredAssessmentUpstream(UpstreamModel):
    """``RequiredAssessment`` of the risk service: a system that needs an assessment."""

    system_id: uuid.UUID
    name: str
    lifecycle_stage: str
    reasons: list[str]
    fundamental_rights_fields_required: bool
    approved_assessment_id: uuid.UUID | None = None
    next_review_at: date | None = None
    has_current_assessment: bool
    latest_assessment_id: uuid.UUID | None = None
    latest_status: str | None = None


class ImpactClient(UpstreamClient):
    service = "risk"

    async def list_assessments(
        self,
        *,
        limit: int,
        after: str | None = None,
        system_ids: Sequence[uuid.UUID] = (),
        statuses: Sequence[str] = (),
    ) -> UpstreamPage[ImpactAssessmentUpstream]:
        params: list[tuple[str, str | int]] = [("limit", limit)]
        if after:
            params.append(("after", after))
        params += [("system_id", str(s)) for s in system_ids]
        params += [("status", s) for s in statuses]
        return await self._get(
            "/v1/impact-assessments", UpstreamPage[ImpactAssessmentUpstream], params=params
        )

    async def assessments_by_ids(self, ids: Sequence[uuid.UUID]) -> list[ImpactAssessmentUpstream]:
        page = await self._get(
            "/v1/impact-assessments",
            UpstreamPage[ImpactAssessmentUpstream],
            params=self._batch_params(ids),
        )
        return page.items

    async def required(
        self, *, limit: int, after: str | None = None, missing: bool = False
    ) -> UpstreamPage[RequiredAssessmentUpstream]:
        params: list[tuple[str, str | int]] = [("limit", limit)]
        if after:
            params.append(("after", after))
        if missing:
            params.append(("missing", "true"))
        return await self._get(
            "/v1/impact-assessments/required",
            UpstreamPage[RequiredAssessmentUpstream],
            params=params,
        )

    async def create(
        self, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> ImpactAssessmentUpstream:
        headers = {"idempotency-key": idempotency_key} if idempotency_key else None
        response = await self._send("POST", "/v1/impact-assessments", json=body, headers=headers)
        return ImpactAssessmentUpstream.model_validate_json(response.content)

    async def update(
        self, assessment_id: uuid.UUID, body: dict[str, Any], *, expected_version: int
    ) -> ImpactAssessmentUpstream:
        response = await self._send(
            "PATCH",
            f"/v1/impact-assessments/{assessment_id}",
            json=body,
            headers={"if-match": f'"{expected_version}"'},
        )
        return ImpactAssessmentUpstream.model_validate_json(response.content)

    async def transition(
        self, assessment_id: uuid.UUID, action: str, body: dict[str, Any] | None = None
    ) -> ImpactAssessmentUpstream:
        """``submit``, ``approve``, ``send-back``, ``reject``, ``withdraw`` or ``reopen``."""
        response = await self._send(
            "POST", f"/v1/impact-assessments/{assessment_id}/{action}", json=body
        )
        return ImpactAssessmentUpstream.model_validate_json(response.content)
