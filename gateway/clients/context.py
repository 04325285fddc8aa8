"""Client of the inventory's context API: issues (4.1) and interested parties (4.2)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, TypeVar

from gateway.clients.base import Params, UpstreamClient
from gateway.clients.schemas import UpstreamModel, UpstreamPage

C = TypeVar("C", bound=UpstreamClient)


def bound_like(cls: type[C], other: UpstreamClient) -> C:
    """A client of the same service, caller and trace context as ``other`` (same pool)."""
    client = cls.__new__(cls)
    client._http = other._http
    client._base_url = other._base_url
    client._headers = dict(other._headers)
    return client


class UpstreamContextIssue(UpstreamModel):
    """``ContextIssueRead`` of the inventory service."""

    id: uuid.UUID
    kind: str
    framework: str
    category: str
    title: str
    description: str
    impact: str
    owner: str | None = None
    next_review_at: datetime | None = None
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


class UpstreamRequirement(UpstreamModel):
    text: str
    addressed: bool
    note: str = ""


class UpstreamInterestedParty(UpstreamModel):
    """``InterestedPartyRead`` of the inventory service."""

    id: uuid.UUID
    name: str
    type: str
    description: str
    requirements: list[UpstreamRequirement]
    owner: str | None = None
    next_review_at: datetime | None = None
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


def _params(limit: int, after: str | None, filters: dict[str, Any]) -> Params:
    params: list[tuple[str, str | int]] = [("limit", limit)]
    if after:
        params.append(("after", after))
    for name, value in filters.items():
        if value is None:
            continue
        params.append((name, str(value).lower() if isinstance(value, bool) else str(value)))
    return params


class ContextClient(UpstreamClient):
    service = "inventory"

    async def list_issues(
        self, *, limit: int, after: str | None = None, **filters: Any
    ) -> UpstreamPage[UpstreamContextIssue]:
        return await self._get(
            "/v1/context-issues",
            UpstreamPage[UpstreamContextIssue],
            params=_params(limit, after, filters),
        )

    async def get_issue(self, issue_id: uuid.UUID) -> UpstreamContextIssue:
        return await self._get(f"/v1/context-issues/{issue_id}", UpstreamContextIssue)

    async def create_issue(
        self, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> UpstreamContextIssue:
        headers = {"idempotency-key": idempotency_key} if idempotency_key else None
        response = await self._send("POST", "/v1/context-issues", json=body, headers=headers)
        return UpstreamContextIssue.model_validate_json(response.content)

    async def list_parties(
        self, *, limit: int, after: str | None = None, **filters: Any
    ) -> UpstreamPage[UpstreamInterestedParty]:
        return await self._get(
            "/v1/interested-parties",
            UpstreamPage[UpstreamInterestedParty],
            params=_params(limit, after, filters),
        )

    async def get_party(self, party_id: uuid.UUID) -> UpstreamInterestedParty:
        return await self._get(f"/v1/interested-parties/{party_id}", UpstreamInterestedParty)

    async def create_party(
        self, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> UpstreamInterestedParty:
        headers = {"idempotency-key": idempotency_key} if idempotency_key else None
        response = await self._send("POST", "/v1/interested-parties", json=body, headers=headers)
        return UpstreamInterestedParty.model_validate_json(response.content)
