"""Client of the inventory's context API: issues (4.1), interested parties (4.2) and the
organisation's AI roles."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gateway.clients.base import Params, UpstreamClient
from gateway.clients.schemas import UpstreamModel, UpstreamPage


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


class UpstreamAIRoles(UpstreamModel):
    """``AIRolesRead`` of the inventory service (version 0 until first set)."""

    roles: list[str]
    note: str
    next_review_at: datetime | None = None
    version: int
    updated_at: datetime | None = None
    updated_by: str | None = None


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

    async def issues_by_ids(self, ids: Sequence[uuid.UUID]) -> list[UpstreamContextIssue]:
        page = await self._get(
            "/v1/context-issues",
            UpstreamPage[UpstreamContextIssue],
            params=self._batch_params(ids),
        )
        return page.items

    async def parties_by_ids(self, ids: Sequence[uuid.UUID]) -> list[UpstreamInterestedParty]:
        page = await self._get(
            "/v1/interested-parties",
            UpstreamPage[UpstreamInterestedParty],
            params=self._batch_params(ids),
        )
        return page.items

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

    async def update_issue(
        self, issue_id: uuid.UUID, body: dict[str, Any], *, expected_version: int
    ) -> UpstreamContextIssue:
        response = await self._send(
            "PATCH",
            f"/v1/context-issues/{issue_id}",
            json=body,
            headers={"if-match": f'"{expected_version}"'},
        )
        return UpstreamContextIssue.model_validate_json(response.content)

    async def update_party(
        self, party_id: uuid.UUID, body: dict[str, Any], *, expected_version: int
    ) -> UpstreamInterestedParty:
        response = await self._send(
            "PATCH",
            f"/v1/interested-parties/{party_id}",
            json=body,
            headers={"if-match": f'"{expected_version}"'},
        )
        return UpstreamInterestedParty.model_validate_json(response.content)

    async def ai_roles(self) -> UpstreamAIRoles:
        return await self._get("/v1/organisation/ai-roles", UpstreamAIRoles)

    async def set_ai_roles(self, body: dict[str, Any], *, expected_version: int) -> UpstreamAIRoles:
        response = await self._send(
            "PUT",
            "/v1/organisation/ai-roles",
            json=body,
            headers={"if-match": f'"{expected_version}"'},
        )
        return UpstreamAIRoles.model_validate_json(response.content)
