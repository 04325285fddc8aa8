from __future__ import annotations

import uuid

from strawberry.dataloader import DataLoader

from gateway.clients.risks import RiskRegisterClient, UpstreamRiskSummary
from gateway.loaders.base import MAX_BATCH_SIZE


class RiskSummaryLoader(DataLoader[uuid.UUID, UpstreamRiskSummary]):
    """Open-risk count and highest residual level of N systems in one upstream call
    (``GET /v1/risks/summary?system_id=…`` of risk); a system without risks has zero."""

    def __init__(self, client: RiskRegisterClient) -> None:
        async def load(ids: list[uuid.UUID]) -> list[UpstreamRiskSummary]:
            found = {s.id: s for s in await client.summaries(ids)}
            return [
                found.get(i) or UpstreamRiskSummary(id=i, open_count=0, highest_residual_level=None)
                for i in ids
            ]

        super().__init__(load_fn=load, max_batch_size=MAX_BATCH_SIZE)
