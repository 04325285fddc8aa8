"""Client of the risk service."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from gateway.clients.base import UpstreamClient
from gateway.clients.schemas import RiskSystem, UpstreamPage


class RiskClient(UpstreamClient):
    service = "risk"

    async def systems_by_ids(self, ids: Sequence[uuid.UUID]) -> list[RiskSystem]:
        """The risk service's views of ``ids``; systems it has not projected yet are absent."""
        page = await self._get(
            "/v1/systems", UpstreamPage[RiskSystem], params=self._batch_params(ids)
        )
        return page.items
