"""Client of the risk service's control catalogue and Statement of Applicability."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import Field

from gateway.clients.base import UpstreamClient, upstream_error
from gateway.clients.schemas import UpstreamModel, UpstreamPage

# Problem+json members of the risk service's SoA errors that the gateway passes on.
_PROBLEM_EXTENSIONS = ("risks", "reasons", "control_id")


class SoANistRef(UpstreamModel):
    id: str
    title: str


class SoAArticleRef(UpstreamModel):
    article: str
    title: str
    citation: str = ""
    roles: list[str] = Field(default_factory=list)


class SoARelatedEUAIAct(UpstreamModel):
    notice: str
    articles: list[SoAArticleRef] = Field(default_factory=list)


class SoACrosswalk(UpstreamModel):
    nist_ai_rmf: list[SoANistRef] = Field(default_factory=list)
    eu_ai_act: list[SoAArticleRef] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class SoAControl(UpstreamModel):
    """``ControlDetail`` of the risk service (``crosswalk`` absent in lists)."""

    id: str
    title: str
    summary: str
    domain_id: str
    domain: str
    objective_id: str
    objective: str
    crosswalk: SoACrosswalk | None = None


class SoAControlList(UpstreamModel):
    items: list[SoAControl]


class SoAEntry(UpstreamModel):
    """``SoAEntryRead`` of the risk service."""

    control_id: str
    control_title: str
    domain_id: str
    applicable: bool | None = None
    justification: str | None = None
    implementation_status: str | None = None
    owner: str | None = None
    notes: str | None = None
    decision: str
    proposal_reason: str | None = None
    selected_by_risks: list[uuid.UUID] = Field(default_factory=list)
    decided_by: str | None = None
    decided_at: datetime | None = None
    version: int = 0
    updated_at: datetime | None = None
    related_eu_ai_act: SoARelatedEUAIAct | None = None


class SoAVersionInfo(UpstreamModel):
    id: uuid.UUID
    number: int
    status: str
    note: str | None = None
    created_at: datetime
    created_by: str
    approved_at: datetime | None = None
    approved_by: str | None = None
    superseded_at: datetime | None = None
    entries: list[SoAEntry] | None = None


class SoAIssue(UpstreamModel):
    code: str
    message: str
    control_id: str | None = None
    risk_ids: list[uuid.UUID] = Field(default_factory=list)


class SoACheckInfo(UpstreamModel):
    consistent: bool
    inconsistencies: list[SoAIssue]
    flags: list[SoAIssue]


class SoAFieldChange(UpstreamModel):
    before: Any = None
    after: Any = None


class SoAEntryDiff(UpstreamModel):
    control_id: str
    changes: dict[str, SoAFieldChange]


class SoADiff(UpstreamModel):
    from_version: int
    to_version: int
    changed: list[SoAEntryDiff]
    added: list[str]
    removed: list[str]


class SoAProposal(UpstreamModel):
    """``ProposeResult`` of the risk service."""

    roles: list[str]
    roles_from: str
    organisation_roles: list[str] = Field(default_factory=list)
    systems_considered: list[uuid.UUID] = Field(default_factory=list)
    processes_data: bool
    operates_systems: bool = False
    has_suppliers: bool = False
    proposed: list[str]
    kept_decided: list[str]
    items: list[SoAEntry]


class SoAAcceptedProposals(UpstreamModel):
    """``AcceptProposalsResult`` of the risk service."""

    accepted: list[str]
    not_proposed: list[str]
    items: list[SoAEntry]


class CrosswalkClause(UpstreamModel):
    id: str
    title: str


class CrosswalkControl(UpstreamModel):
    id: str
    title: str


class EUAIActMapping(UpstreamModel):
    article: str
    citation: str
    title: str
    roles: list[str]
    clauses: list[CrosswalkClause]
    controls: list[CrosswalkControl]


class EUAIActNoCounterpart(UpstreamModel):
    citation: str
    articles: list[str]
    why: str


class EUAIActCrosswalk(UpstreamModel):
    """``GET /v1/crosswalks/eu-ai-act`` (editorial guidance)."""

    notice: str
    status: str
    query: dict[str, str] = Field(default_factory=dict)
    items: list[EUAIActMapping]
    no_counterpart: list[EUAIActNoCounterpart] = Field(default_factory=list)


class NistPair(UpstreamModel):
    subcategory: SoANistRef
    iso_ref: str
    iso_ref_type: str
    clause: CrosswalkClause | None = None
    control: CrosswalkControl | None = None


class NistCrosswalk(UpstreamModel):
    """``GET /v1/crosswalks/nist-ai-rmf``: every pair, clause-level ones included."""

    note: str
    query: dict[str, str] = Field(default_factory=dict)
    items: list[NistPair]


def _filters(**values: str | None) -> list[tuple[str, str]]:
    return [(name, value) for name, value in values.items() if value is not None]


class SoAClient(UpstreamClient):
    service = "risk"

    async def controls(self, domain: str | None = None) -> list[SoAControl]:
        params = [("domain", domain)] if domain else None
        return (await self._get("/v1/controls", SoAControlList, params=params)).items

    async def control(self, control_id: str) -> SoAControl:
        return await self._get(f"/v1/controls/{quote(control_id, safe='')}", SoAControl)

    async def entries(self) -> list[SoAEntry]:
        return (await self._get("/v1/soa/entries", UpstreamPage[SoAEntry])).items

    async def eu_ai_act_crosswalk(
        self,
        *,
        control: str | None = None,
        article: str | None = None,
        clause: str | None = None,
        role: str | None = None,
    ) -> EUAIActCrosswalk:
        params = _filters(control=control, article=article, clause=clause, role=role)
        return await self._get("/v1/crosswalks/eu-ai-act", EUAIActCrosswalk, params=params)

    async def nist_crosswalk(
        self,
        *,
        subcategory: str | None = None,
        control: str | None = None,
        clause: str | None = None,
    ) -> NistCrosswalk:
        params = _filters(subcategory=subcategory, control=control, clause=clause)
        return await self._get("/v1/crosswalks/nist-ai-rmf", NistCrosswalk, params=params)

    async def propose(self, roles: list[str] | None) -> SoAProposal:
        body = {"roles": roles} if roles is not None else None
        response = await self._send_problem("POST", "/v1/soa/propose", json=body)
        return SoAProposal.model_validate_json(response.content)

    async def accept_proposals(self, control_ids: list[str] | None) -> SoAAcceptedProposals:
        body = {"control_ids": control_ids} if control_ids is not None else None
        response = await self._send_problem("POST", "/v1/soa/entries/accept-proposals", json=body)
        return SoAAcceptedProposals.model_validate_json(response.content)

    async def versions(
        self, *, limit: int, after: str | None, status: str | None = None
    ) -> UpstreamPage[SoAVersionInfo]:
        params: list[tuple[str, str | int]] = [("limit", limit)]
        if after:
            params.append(("after", after))
        if status:
            params.append(("status", status))
        return await self._get("/v1/soa/versions", UpstreamPage[SoAVersionInfo], params=params)

    async def check(self) -> SoACheckInfo:
        return await self._get("/v1/soa/check", SoACheckInfo)

    async def create_version(self, note: str | None) -> SoAVersionInfo:
        response = await self._send_problem("POST", "/v1/soa/versions", json={"note": note})
        return SoAVersionInfo.model_validate_json(response.content)

    async def version(self, ref: str) -> SoAVersionInfo:
        return await self._get(f"/v1/soa/versions/{quote(ref, safe='')}", SoAVersionInfo)

    async def diff(self, a: str, b: str) -> SoADiff:
        path = f"/v1/soa/versions/{quote(a, safe='')}/diff/{quote(b, safe='')}"
        return await self._get(path, SoADiff)

    async def decide(
        self, control_id: str, body: dict[str, Any], *, expected_version: int
    ) -> SoAEntry:
        response = await self._send_problem(
            "PATCH",
            f"/v1/soa/entries/{quote(control_id, safe='')}",
            json=body,
            headers={"if-match": f'"{expected_version}"'},
        )
        return SoAEntry.model_validate_json(response.content)

    async def approve(self, ref: str) -> SoAVersionInfo:
        response = await self._send_problem(
            "POST", f"/v1/soa/versions/{quote(ref, safe='')}/approve"
        )
        return SoAVersionInfo.model_validate_json(response.content)

    async def _send_problem(
        self, method: str, path: str, *, json: Any = None, headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        """``_send`` whose errors also carry the problem's ``risks`` / ``reasons`` members."""
        response = await self._request(method, path, json=json, headers=headers)
        if response.is_success:
            return response
        error = upstream_error(self.service, response)
        try:
            problem = response.json()
        except ValueError:
            problem = None
        if isinstance(problem, dict):
            error.extensions = {k: problem[k] for k in _PROBLEM_EXTENSIONS if k in problem}
        raise error
