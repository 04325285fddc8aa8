"""Client of the inventory service (the register of AI systems)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from gateway.clients.base import UpstreamClient
from gateway.clients.schemas import InventorySystem, UpstreamPage


class InventoryClient(UpstreamClient):
    service = "inventory"

    async def list_systems(
        self, *, limit: int, after: str | None = None, name_contains: str | None = None
    ) -> UpstreamPage[InventorySystem]:
        params: list[tuple[str, str | int]] = [("limit", limit)]
        if after:
            params.append(("after", after))
        if name_contains:
            params.append(("name", name_contains))
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
