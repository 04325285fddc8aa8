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
from shared.errors import ServiceUnavailable

# Problem+json members of the risk service's SoA errors that the gateway passes on.
_PROBLEM_EXTENSIONS = ("risks", "reasons", "control_id")


class SoANistRef(UpstreamModel):
    id: str
    title: str


class SoAArticleRef(UpstreamModel):
    article: str
    title: str


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


class SoAClient(UpstreamClient):
    service = "risk"

    async def controls(self, domain: str | None = None) -> list[SoAControl]:
        params = [("domain", domain)] if domain else None
        return (await self._get("/v1/controls", SoAControlList, params=params)).items

    async def control(self, control_id: str) -> SoAControl:
        return await self._get(f"/v1/controls/{quote(control_id, safe='')}", SoAControl)

    async def entries(self) -> list[SoAEntry]:
        return (await self._get("/v1/soa/entries", UpstreamPage[SoAEntry])).items

    async def versions(
        self, *, limit: int, after: str | None, status: str | None = None
    ) -> UpstreamPage[SoAVersionInfo]:
        params: list[tuple[str, str | int]] = [("limit", limit)]
        if after:
            params.append(("after", after))
        if status:
            params.append(("status", status))
        return await self._get("/v1/soa/versions", UpstreamPage[SoAVersionInfo], params=params)

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
        try:
            response = await self._http.request(
                method,
                f"{self._base_url}{path}",
                json=json,
                headers={**self._headers, **(headers or {})},
            )
        except httpx.TransportError as exc:
            raise ServiceUnavailable(f"The {self.service} service is not reachable.") from exc
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
