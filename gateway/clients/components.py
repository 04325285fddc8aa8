"""Client of the inventory's components domain: vendors, components, the dependency graph and
CycloneDX import."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gateway.clients.base import UpstreamClient
from gateway.clients.schemas import UpstreamModel, UpstreamPage


class UpstreamVendor(UpstreamModel):
    id: uuid.UUID
    name: str
    services: list[str]
    website: str | None
    contact: str | None
    last_reviewed_at: datetime | None
    next_review_at: datetime | None
    notes: str
    version: int
    created_at: datetime
    updated_at: datetime


class UpstreamComponent(UpstreamModel):
    id: uuid.UUID
    kind: str
    name: str
    component_version: str | None
    description: str
    vendor_id: uuid.UUID | None
    system_id: uuid.UUID | None
    bom_ref: str | None
    source: str = "manual"
    model_card: dict[str, Any] | None
    properties: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime


class UpstreamGraphNode(UpstreamModel):
    type: str
    id: uuid.UUID
    name: str


class UpstreamDependencyPath(UpstreamModel):
    node: UpstreamGraphNode
    depth: int
    path: list[UpstreamGraphNode]


class UpstreamDependencyGraph(UpstreamModel):
    start: UpstreamGraphNode
    items: list[UpstreamDependencyPath]


class UpstreamImportCounts(UpstreamModel):
    created: int
    updated: int
    unchanged: int
    removed: int = 0


class UpstreamBomComponentRef(UpstreamModel):
    id: uuid.UUID
    bom_ref: str | None = None
    name: str


class UpstreamBomEdgeRef(UpstreamModel):
    id: uuid.UUID
    from_type: str
    from_id: uuid.UUID
    from_bom_ref: str | None = None
    to_type: str
    to_id: uuid.UUID
    to_bom_ref: str | None = None
    source: str


class UpstreamBomSummary(UpstreamModel):
    system_id: uuid.UUID
    spec_version: str
    components: UpstreamImportCounts
    vendors: UpstreamImportCounts
    dependencies: UpstreamImportCounts
    created: list[UpstreamBomComponentRef] = []
    updated: list[UpstreamBomComponentRef] = []
    removed: list[UpstreamBomComponentRef] = []
    removed_dependencies: list[UpstreamBomEdgeRef] = []
    removed_interfaces: list[uuid.UUID] = []


class UpstreamSystemComponents(UpstreamModel):
    system_id: uuid.UUID
    total_count: int
    items: list[UpstreamComponent]


class UpstreamSystemComponentsList(UpstreamModel):
    items: list[UpstreamSystemComponents]


class ComponentsClient(UpstreamClient):
    """Talks to the inventory service with the caller's credentials (as the inventory client)."""

    service = "inventory"

    @staticmethod
    def _page_params(
        limit: int, after: str | None, **filters: str | None
    ) -> list[tuple[str, str | int]]:
        params: list[tuple[str, str | int]] = [("limit", limit)]
        if after:
            params.append(("after", after))
        params.extend((k, v) for k, v in filters.items() if v is not None)
        return params

    async def list_vendors(
        self, *, limit: int, after: str | None = None, name_contains: str | None = None
    ) -> UpstreamPage[UpstreamVendor]:
        return await self._get(
            "/v1/vendors",
            UpstreamPage[UpstreamVendor],
            params=self._page_params(limit, after, name=name_contains),
        )

    async def vendors_by_ids(self, ids: Sequence[uuid.UUID]) -> list[UpstreamVendor]:
        page = await self._get(
            "/v1/vendors", UpstreamPage[UpstreamVendor], params=self._batch_params(ids)
        )
        return page.items

    async def list_components(
        self,
        *,
        limit: int,
        after: str | None = None,
        system_id: uuid.UUID | None = None,
        kind: str | None = None,
    ) -> UpstreamPage[UpstreamComponent]:
        params = self._page_params(
            limit, after, system_id=str(system_id) if system_id else None, kind=kind
        )
        return await self._get("/v1/components", UpstreamPage[UpstreamComponent], params=params)

    async def components_by_system(
        self, system_ids: Sequence[uuid.UUID], *, first: int
    ) -> list[UpstreamSystemComponents]:
        """The first ``first`` components and the total of each system, in the order asked
        (``GET /v1/components-by-system``)."""
        params: list[tuple[str, str | int]] = [("system_id", str(i)) for i in system_ids]
        params.append(("first", first))
        found = await self._get(
            "/v1/components-by-system", UpstreamSystemComponentsList, params=params
        )
        return found.items

    async def components_by_ids(self, ids: Sequence[uuid.UUID]) -> list[UpstreamComponent]:
        page = await self._get(
            "/v1/components", UpstreamPage[UpstreamComponent], params=self._batch_params(ids)
        )
        return page.items

    async def create_vendor(
        self, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> UpstreamVendor:
        headers = {"idempotency-key": idempotency_key} if idempotency_key else None
        response = await self._send("POST", "/v1/vendors", json=body, headers=headers)
        return UpstreamVendor.model_validate_json(response.content)

    async def create_component(
        self, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> UpstreamComponent:
        headers = {"idempotency-key": idempotency_key} if idempotency_key else None
        response = await self._send("POST", "/v1/components", json=body, headers=headers)
        return UpstreamComponent.model_validate_json(response.content)

    async def update_vendor(
        self, vendor_id: uuid.UUID, body: dict[str, Any], *, expected_version: int
    ) -> UpstreamVendor:
        response = await self._send(
            "PATCH",
            f"/v1/vendors/{vendor_id}",
            json=body,
            headers={"if-match": f'"{expected_version}"'},
        )
        return UpstreamVendor.model_validate_json(response.content)

    async def delete_vendor(self, vendor_id: uuid.UUID, *, expected_version: int) -> None:
        await self._send(
            "DELETE", f"/v1/vendors/{vendor_id}", headers={"if-match": f'"{expected_version}"'}
        )

    async def update_component(
        self, component_id: uuid.UUID, body: dict[str, Any], *, expected_version: int
    ) -> UpstreamComponent:
        response = await self._send(
            "PATCH",
            f"/v1/components/{component_id}",
            json=body,
            headers={"if-match": f'"{expected_version}"'},
        )
        return UpstreamComponent.model_validate_json(response.content)

    async def delete_component(self, component_id: uuid.UUID, *, expected_version: int) -> None:
        await self._send(
            "DELETE",
            f"/v1/components/{component_id}",
            headers={"if-match": f'"{expected_version}"'},
        )

    async def system_dependencies(
        self, system_id: uuid.UUID, *, transitive: bool, paths: bool = False
    ) -> UpstreamDependencyGraph:
        """``paths``: each node with the whole path to it (the inventory's ``paths=true``)."""
        params: list[tuple[str, str | int]] = [("transitive", "true" if transitive else "false")]
        if paths:
            params.append(("paths", "true"))
        return await self._get(
            f"/v1/ai-systems/{system_id}/dependencies", UpstreamDependencyGraph, params=params
        )

    async def import_bom(self, system_id: uuid.UUID, bom: Any) -> UpstreamBomSummary:
        # Sent as the JSON the caller gave; the inventory parses and bounds it.
        response = await self._send(
            "POST",
            f"/v1/ai-systems/{system_id}/bom",
            json=json.loads(json.dumps(bom)),
            headers={"content-type": "application/vnd.cyclonedx+json"},
        )
        return UpstreamBomSummary.model_validate_json(response.content)
