"""Client of the risk service's EU AI Act classification."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gateway.clients.base import UpstreamClient
from gateway.clients.schemas import UpstreamModel, UpstreamPage


class UpstreamObligation(UpstreamModel):
    article: str
    title: str
    role: str
    kind: str
    summary: str
    ref: str | None = None


class UpstreamClassificationWarning(UpstreamModel):
    code: str
    message: str
    annex_iii_area: str | None = None
    fact: str | None = None


class UpstreamReclassificationRequest(UpstreamModel):
    requested_at: datetime
    changed_facts: list[str]


class UpstreamClassification(UpstreamModel):
    id: uuid.UUID
    system_id: uuid.UUID
    version: int
    current: bool
    tier: str
    risk_level: str | None = None
    route: str
    articles: list[str]
    obligations: list[UpstreamObligation]
    reasons: list[str]
    prohibited_practices: list[str] = []
    annex_iii_area: str | None = None
    annex_iii_point: str | None = None
    exemption: str | None = None
    transparency: list[str] = []
    gpai_model: bool
    gpai_systemic_risk: bool
    scope_exclusion: str | None = None
    art5_exceptions: list[str] = []
    annex_iii_points: list[str] = []
    annex_iii_carve_outs: list[str] = []
    annex_i_section: str | None = None
    annex_i_legislation: str | None = None
    exemption_documented_by_provider: bool = False
    gpai_open_source: bool = False
    warnings: list[UpstreamClassificationWarning] = []
    answers: dict[str, Any]
    classified_at: datetime
    classified_by: str
    reclassification_requested: UpstreamReclassificationRequest | None = None


class UpstreamClassificationList(UpstreamModel):
    items: list[UpstreamClassification]


class UpstreamClassificationSummary(UpstreamModel):
    """``ClassificationSummary`` of the risk service (``GET /v1/classifications?view=summary``):
    what a page of systems shows, without obligations, reasons and answers."""

    id: uuid.UUID
    system_id: uuid.UUID
    version: int
    tier: str
    route: str
    role: str
    articles: list[str]
    classified_at: datetime
    classified_by: str
    reclassification_requested: UpstreamReclassificationRequest | None = None


class UpstreamClassificationSummaryList(UpstreamModel):
    items: list[UpstreamClassificationSummary]


class UpstreamQuestionOption(UpstreamModel):
    value: str
    label: str
    ref: str | None = None
    group: str | None = None


class UpstreamQuestion(UpstreamModel):
    id: str
    text: str
    kind: str
    required: bool
    refs: list[str] = []
    options: list[UpstreamQuestionOption] = []
    help: str | None = None
    shown_when: str | None = None


class UpstreamQuestionnaire(UpstreamModel):
    regulation: str
    questions: list[UpstreamQuestion]


class UpstreamClassificationNeeded(UpstreamModel):
    system_id: uuid.UUID
    name: str
    reason: str
    current_version: int | None = None


class ClassificationClient(UpstreamClient):
    """Talks to the risk service with the caller's credentials (as the risk client)."""

    service = "risk"

    async def needed(
        self, *, limit: int, after: str | None
    ) -> UpstreamPage[UpstreamClassificationNeeded]:
        params: list[tuple[str, str | int]] = [("limit", limit)]
        if after:
            params.append(("after", after))
        return await self._get(
            "/v1/classifications/needed", UpstreamPage[UpstreamClassificationNeeded], params=params
        )

    async def current_of(self, system_ids: Sequence[uuid.UUID]) -> list[UpstreamClassification]:
        """Current classifications of ``system_ids`` in one call (unclassified are absent)."""
        found = await self._get(
            "/v1/classifications",
            UpstreamClassificationList,
            params=[("system_id", str(i)) for i in system_ids],
        )
        return found.items

    async def summaries_of(
        self, system_ids: Sequence[uuid.UUID]
    ) -> list[UpstreamClassificationSummary]:
        """Summaries of the current classifications of ``system_ids`` in one call (a few
        hundred bytes each instead of several KB: no obligations, reasons or answers)."""
        found = await self._get(
            "/v1/classifications",
            UpstreamClassificationSummaryList,
            params=[*(("system_id", str(i)) for i in system_ids), ("view", "summary")],
        )
        return found.items

    async def classify(
        self, system_id: uuid.UUID, answers: dict[str, Any]
    ) -> UpstreamClassification:
        response = await self._send(
            "POST", f"/v1/systems/{system_id}/classifications", json=answers
        )
        return UpstreamClassification.model_validate_json(response.content)

    async def questionnaire(self) -> UpstreamQuestionnaire:
        return await self._get("/v1/eu-ai-act/questionnaire", UpstreamQuestionnaire)
