"""Client of the evidence service."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from gateway.clients.base import UpstreamClient
from gateway.clients.schemas import EvidenceSystem, UpstreamPage


class EvidenceClient(UpstreamClient):
    service = "evidence"

    async def systems_by_ids(self, ids: Sequence[uuid.UUID]) -> list[EvidenceSystem]:
        """Evidence totals of ``ids``; systems it has not projected yet are absent."""
        page = await self._get(
            "/v1/systems", UpstreamPage[EvidenceSystem], params=self._batch_params(ids)
        )
        return page.items
