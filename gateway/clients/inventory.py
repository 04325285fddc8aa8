"""Client of the inventory service (the register of AI systems)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from gateway.clients.base import UpstreamClient
from gateway.clients.schemas import (
    InventoryCompletenessPage,
    InventorySystem,
    InventorySystemChange,
    UpstreamModel,
    UpstreamPage,
)


class UpstreamCustomField(UpstreamModel):
    id: uuid.UUID
    key: str
    label: str
    type: str
    choices: list[str]
    required: bool
    version: int
    created_at: datetime
    updated_at: datetime


class InventoryClient(UpstreamClient):
    service = "inventory"

    async def custom_fields(
        self, *, limit: int, after: str | None
    ) -> UpstreamPage[UpstreamCustomField]:
        params: list[tuple[str, str | int]] = [("limit", limit)]
        if after:
            params.append(("after", after))
        return await self._get(
            "/v1/custom-fields", UpstreamPage[UpstreamCustomField], params=params
        )

    async def list_systems(
        self,
        *,
        limit: int,
        after: str | None = None,
        name_contains: str | None = None,
        filters: Mapping[str, str | bool | None] | None = None,
        sort: str | None = None,
    ) -> UpstreamPage[InventorySystem]:
        """A page of systems; ``filters`` are the REST query parameters (None ones skipped)."""
        params: list[tuple[str, str | int]] = [("limit", limit)]
        if after:
            params.append(("after", after))
        if name_contains:
            params.append(("name", name_contains))
        for name, value in (filters or {}).items():
            if value is None:
                continue
            params.append((name, str(value).lower() if isinstance(value, bool) else value))
        if sort:
            params.append(("sort", sort))
        return await self._get("/v1/ai-systems", UpstreamPage[InventorySystem], params=params)

    async def systems_of_vendors(
        self, vendor_ids: Sequence[uuid.UUID], *, limit: int, after: str | None = None
    ) -> UpstreamPage[InventorySystem]:
        """One page of the systems of any of ``vendor_ids`` (``?vendor_id=…&vendor_id=…``)."""
        params: list[tuple[str, str | int]] = [
            *(("vendor_id", str(i)) for i in vendor_ids),
            ("limit", limit),
        ]
        if after:
            params.append(("after", after))
        return await self._get("/v1/ai-systems", UpstreamPage[InventorySystem], params=params)

    async def systems_by_ids(self, ids: Sequence[uuid.UUID]) -> list[InventorySystem]:
        """The caller's systems among ``ids`` (at most 500); others' are simply absent."""
        page = await self._get(
            "/v1/ai-systems", UpstreamPage[InventorySystem], params=self._batch_params(ids)
        )
        return page.items

    async def register_system(
        self, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> InventorySystem:
        headers = {"idempotency-key": idempotency_key} if idempotency_key else None
        response = await self._send("POST", "/v1/ai-systems", json=body, headers=headers)
        return InventorySystem.model_validate_json(response.content)

    async def update_system(
        self, system_id: uuid.UUID, body: dict[str, Any], *, expected_version: int
    ) -> InventorySystem:
        response = await self._send(
            "PATCH",
            f"/v1/ai-systems/{system_id}",
            json=body,
            headers={"if-match": f'"{expected_version}"'},
        )
        return InventorySystem.model_validate_json(response.content)

    async def system_history(
        self, system_id: uuid.UUID, *, limit: int, after: str | None = None
    ) -> UpstreamPage[InventorySystemChange]:
        params: list[tuple[str, str | int]] = [("limit", limit)]
        if after:
            params.append(("after", after))
        return await self._get(
            f"/v1/ai-systems/{system_id}/history",
            UpstreamPage[InventorySystemChange],
            params=params,
        )

    async def completeness(
        self, *, limit: int, after: str | None = None
    ) -> InventoryCompletenessPage:
        params: list[tuple[str, str | int]] = [("limit", limit)]
        if after:
            params.append(("after", after))
        return await self._get(
            "/v1/ai-systems/completeness", InventoryCompletenessPage, params=params
        )
