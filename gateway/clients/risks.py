"""Client of the risk service's register: matrices, risks, summaries and the dashboard."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from gateway.clients.base import Params, UpstreamClient
from gateway.clients.schemas import UpstreamModel, UpstreamPage


class UpstreamMatrixDefinition(UpstreamModel):
    likelihood_labels: list[str]
    severity_labels: list[str]
    levels: list[str]
    cells: list[list[str]]
    tolerance: str


class UpstreamRiskMatrix(UpstreamModel):
    id: uuid.UUID
    number: int
    preset: str | None = None
    definition: UpstreamMatrixDefinition
    created_at: datetime
    created_by: str


class UpstreamRisk(UpstreamModel):
    id: uuid.UUID
    version: int
    system_id: uuid.UUID | None = None
    title: str
    description: str
    domain_id: str
    subdomain_id: str
    entity: str
    intent: str
    timing: str
    affected_stakeholders: list[str]
    lifecycle_stage: str | None = None
    fundamental_rights: bool
    matrix_version: int
    likelihood: int
    severity: int
    inherent_level: str
    residual_likelihood: int | None = None
    residual_severity: int | None = None
    residual_level: str | None = None
    assessed_at: datetime
    next_review_at: datetime | None = None
    treatment: str | None = None
    treatment_plan: str | None = None
    owner: str | None = None
    due_date: date | None = None
    control_ids: list[str]
    status: str
    above_tolerance: bool
    missing_controls: bool
    accepted_by: str | None = None
    accepted_at: datetime | None = None
    acceptance_rationale: str | None = None
    created_at: datetime
    updated_at: datetime


class UpstreamRiskSummary(UpstreamModel):
    id: uuid.UUID
    open_count: int
    highest_residual_level: str | None = None


class UpstreamSystemRisks(UpstreamModel):
    system_id: uuid.UUID
    total_count: int
    items: list[UpstreamRisk]


class UpstreamSystemRisksList(UpstreamModel):
    items: list[UpstreamSystemRisks]


class UpstreamRiskPolicy(UpstreamModel):
    org_id: uuid.UUID
    require_impact_assessment_for_all_high_risk: bool
    allow_self_acceptance: bool
    basis: str = "policy"
    version: int
    updated_at: datetime | None = None
    updated_by: str | None = None


class UpstreamCellCount(UpstreamModel):
    likelihood: int
    severity: int
    count: int


class UpstreamLevelCount(UpstreamModel):
    level: str
    count: int


class UpstreamDomainCount(UpstreamModel):
    domain_id: str
    count: int


class UpstreamSystemCount(UpstreamModel):
    system_id: uuid.UUID | None = None
    count: int


class UpstreamRiskDashboard(UpstreamModel):
    basis: str
    matrix_version: int
    total: int
    cells: list[UpstreamCellCount]
    levels: list[UpstreamLevelCount]
    domains: list[UpstreamDomainCount]
    systems: list[UpstreamSystemCount]


class RiskRegisterClient(UpstreamClient):
    """Talks to the risk service with the caller's credentials (as the risk client)."""

    service = "risk"

    async def list_risks(
        self, *, limit: int, after: str | None, filters: Params = ()
    ) -> UpstreamPage[UpstreamRisk]:
        params: list[tuple[str, str | int]] = [("limit", limit), *filters]
        if after:
            params.append(("after", after))
        return await self._get("/v1/risks", UpstreamPage[UpstreamRisk], params=params)

    async def risks_by_ids(self, ids: Sequence[uuid.UUID]) -> list[UpstreamRisk]:
        page = await self._get(
            "/v1/risks", UpstreamPage[UpstreamRisk], params=self._batch_params(ids)
        )
        return page.items

    async def risks_by_system(
        self, system_ids: Sequence[uuid.UUID], *, first: int, filters: Params = ()
    ) -> list[UpstreamSystemRisks]:
        """Each system's first ``first`` risks matching ``filters`` and their total, in the order
        asked (``GET /v1/risks-by-system``; one upstream call for all of them)."""
        params: list[tuple[str, str | int]] = [
            *(("system_id", str(i)) for i in system_ids),
            ("first", first),
            *filters,
        ]
        found = await self._get("/v1/risks-by-system", UpstreamSystemRisksList, params=params)
        return found.items

    async def risk_policy(self) -> UpstreamRiskPolicy:
        return await self._get("/v1/risk-policy", UpstreamRiskPolicy)

    async def put_risk_policy(
        self, body: dict[str, Any], *, version: int | None
    ) -> UpstreamRiskPolicy:
        headers = {"if-match": f'"{version}"'} if version is not None else None
        response = await self._send("PUT", "/v1/risk-policy", json=body, headers=headers)
        return UpstreamRiskPolicy.model_validate_json(response.content)

    async def summaries(self, system_ids: Sequence[uuid.UUID]) -> list[UpstreamRiskSummary]:
        page = await self._get(
            "/v1/risks/summary",
            UpstreamPage[UpstreamRiskSummary],
            params=[("system_id", str(i)) for i in system_ids],
        )
        return page.items

    async def matrix(self) -> UpstreamRiskMatrix:
        return await self._get("/v1/risk-matrices", UpstreamRiskMatrix)

    async def dashboard(self, basis: str) -> UpstreamRiskDashboard:
        return await self._get(
            "/v1/risk-dashboard", UpstreamRiskDashboard, params=[("basis", basis)]
        )

    async def create_risk(
        self, body: dict[str, Any], *, idempotency_key: str | None
    ) -> UpstreamRisk:
        headers = {"idempotency-key": idempotency_key} if idempotency_key else None
        response = await self._send("POST", "/v1/risks", json=body, headers=headers)
        return UpstreamRisk.model_validate_json(response.content)

    async def assess_risk(
        self, risk_id: uuid.UUID, body: dict[str, Any], *, version: int
    ) -> UpstreamRisk:
        response = await self._send(
            "PATCH", f"/v1/risks/{risk_id}", json=body, headers={"if-match": f'"{version}"'}
        )
        return UpstreamRisk.model_validate_json(response.content)

    async def accept_risk(
        self, risk_id: uuid.UUID, rationale: str, *, version: int
    ) -> UpstreamRisk:
        response = await self._send(
            "POST",
            f"/v1/risks/{risk_id}/accept",
            json={"rationale": rationale},
            headers={"if-match": f'"{version}"'},
        )
        return UpstreamRisk.model_validate_json(response.content)
