"""Client of the inventory's scope API (4.3)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gateway.clients.base import UpstreamClient, upstream_error
from gateway.clients.schemas import UpstreamModel, UpstreamPage
from shared.errors import NotFound

REFUSED = "scope-approval-refused"


class UpstreamBoundary(UpstreamModel):
    name: str
    included: bool
    justification: str = ""


class UpstreamScopeSystem(UpstreamModel):
    system_id: uuid.UUID
    included: bool
    justification: str = ""


class UpstreamScopeVersion(UpstreamModel):
    """``ScopeVersionRead`` of the inventory service."""

    id: uuid.UUID
    number: int
    status: str
    statement: str
    activities: list[UpstreamBoundary]
    locations: list[UpstreamBoundary]
    departments: list[UpstreamBoundary]
    systems: list[UpstreamScopeSystem]
    based_on_id: uuid.UUID | None = None
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str
    approved_by: str | None = None
    approved_at: datetime | None = None
    superseded_at: datetime | None = None


class UpstreamReason(UpstreamModel):
    code: str
    message: str
    system_id: uuid.UUID | None = None


class UpstreamPathNode(UpstreamModel):
    type: str
    id: uuid.UUID
    name: str


class UpstreamWarning(UpstreamModel):
    code: str
    message: str
    system_id: uuid.UUID
    path: list[UpstreamPathNode]


class UpstreamCheck(UpstreamModel):
    approvable: bool
    reasons: list[UpstreamReason]
    warnings: list[UpstreamWarning]


class UpstreamVersionCheck(UpstreamCheck):
    scope_version_id: uuid.UUID


class UpstreamCheckList(UpstreamModel):
    items: list[UpstreamVersionCheck]


class UpstreamApproval(UpstreamModel):
    """Either the approved version, or (``refused``) every reason it was not approved."""

    scope_version: UpstreamScopeVersion | None = None
    warnings: list[UpstreamWarning] = []
    refused: str | None = None
    reasons: list[UpstreamReason] = []


class UpstreamBoundaryChange(UpstreamModel):
    name: str
    before: UpstreamBoundary
    after: UpstreamBoundary


class UpstreamBoundaryDiff(UpstreamModel):
    added: list[UpstreamBoundary]
    removed: list[UpstreamBoundary]
    changed: list[UpstreamBoundaryChange]


class UpstreamSystemChange(UpstreamModel):
    system_id: uuid.UUID
    before: UpstreamScopeSystem
    after: UpstreamScopeSystem


class UpstreamSystemsDiff(UpstreamModel):
    added: list[UpstreamScopeSystem]
    removed: list[UpstreamScopeSystem]
    changed: list[UpstreamSystemChange]
    now_included: list[uuid.UUID]
    now_excluded: list[uuid.UUID]


class UpstreamVersionRef(UpstreamModel):
    id: uuid.UUID
    number: int
    status: str


class UpstreamDiff(UpstreamModel):
    from_version: UpstreamVersionRef
    to_version: UpstreamVersionRef
    statement_changed: bool
    statement_before: str
    statement_after: str
    activities: UpstreamBoundaryDiff
    locations: UpstreamBoundaryDiff
    departments: UpstreamBoundaryDiff
    systems: UpstreamSystemsDiff


class ScopeClient(UpstreamClient):
    service = "inventory"

    async def list_versions(
        self, *, limit: int, after: str | None = None, status: str | None = None
    ) -> UpstreamPage[UpstreamScopeVersion]:
        params: list[tuple[str, str | int]] = [("limit", limit)]
        if after:
            params.append(("after", after))
        if status:
            params.append(("status", status))
        return await self._get(
            "/v1/scope-versions", UpstreamPage[UpstreamScopeVersion], params=params
        )

    async def versions_by_ids(self, ids: Sequence[uuid.UUID]) -> list[UpstreamScopeVersion]:
        page = await self._get(
            "/v1/scope-versions",
            UpstreamPage[UpstreamScopeVersion],
            params=self._batch_params(ids),
        )
        return page.items

    async def checks(self, ids: Sequence[uuid.UUID]) -> list[UpstreamVersionCheck]:
        """Approval dry runs of many versions (``GET /v1/scope-versions/checks?id=…``)."""
        params = [("id", str(i)) for i in ids]
        found = await self._get("/v1/scope-versions/checks", UpstreamCheckList, params=params)
        return found.items

    async def get_version(self, version_id: uuid.UUID) -> UpstreamScopeVersion:
        return await self._get(f"/v1/scope-versions/{version_id}", UpstreamScopeVersion)

    async def current(self) -> UpstreamScopeVersion | None:
        try:
            return await self._get("/v1/scope-versions/current", UpstreamScopeVersion)
        except NotFound as error:
            if error.code == "no-approved-scope":
                return None
            raise

    async def diff(self, a: uuid.UUID, b: uuid.UUID) -> UpstreamDiff:
        return await self._get(f"/v1/scope-versions/{a}/diff/{b}", UpstreamDiff)

    async def check(self, version_id: uuid.UUID) -> UpstreamCheck:
        return await self._get(f"/v1/scope-versions/{version_id}/check", UpstreamCheck)

    async def create_version(
        self, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> UpstreamScopeVersion:
        headers = {"idempotency-key": idempotency_key} if idempotency_key else None
        response = await self._send("POST", "/v1/scope-versions", json=body, headers=headers)
        return UpstreamScopeVersion.model_validate_json(response.content)

    async def update_version(
        self, version_id: uuid.UUID, body: dict[str, Any], *, version: int
    ) -> UpstreamScopeVersion:
        response = await self._send(
            "PATCH",
            f"/v1/scope-versions/{version_id}",
            json=body,
            headers={"if-match": f'"{version}"'},
        )
        return UpstreamScopeVersion.model_validate_json(response.content)

    async def approve(self, version_id: uuid.UUID, *, version: int | None) -> UpstreamApproval:
        """The approval, or a refusal with every reason (the service's 422 problem)."""
        headers = {"if-match": f'"{version}"'} if version is not None else None
        response = await self._request(
            "POST", f"/v1/scope-versions/{version_id}/approve", headers=headers
        )
        if response.is_success:
            return UpstreamApproval.model_validate_json(response.content)
        if response.status_code == 422:
            try:
                problem = response.json()
            except ValueError:
                problem = None
            if isinstance(problem, dict) and problem.get("code") == REFUSED:
                return UpstreamApproval(
                    refused=str(problem.get("detail") or "The scope cannot be approved."),
                    reasons=[UpstreamReason.model_validate(r) for r in problem.get("reasons", [])],
                    warnings=[
                        UpstreamWarning.model_validate(w) for w in problem.get("warnings", [])
                    ],
                )
        raise upstream_error(self.service, response)
