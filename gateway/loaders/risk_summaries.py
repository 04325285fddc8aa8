"""DataLoaders of the risk register: risks by id, and per-system risk summaries.

A page of N systems asks ``GET /v1/risks/summary?system_id=…`` once for all N. The loaders hang
off the request's context (built on first use), so they live exactly as long as the request.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from strawberry.dataloader import DataLoader

from gateway.clients.risks import RiskRegisterClient, UpstreamRisk, UpstreamRiskSummary
from gateway.loaders.base import MAX_BATCH_SIZE, ByIdLoader

_KEY = "_risk_register_loaders"


class RiskSummaryLoader(DataLoader[uuid.UUID, UpstreamRiskSummary]):
    """Open-risk count and highest residual level of N systems in one upstream call."""

    def __init__(self, client: RiskRegisterClient) -> None:
        async def load(ids: list[uuid.UUID]) -> list[UpstreamRiskSummary]:
            found = {s.id: s for s in await client.summaries(ids)}
            return [
                found.get(i) or UpstreamRiskSummary(id=i, open_count=0, highest_residual_level=None)
                for i in ids
            ]

        super().__init__(load_fn=load, max_batch_size=MAX_BATCH_SIZE)


class RiskLoader(ByIdLoader[UpstreamRisk]):
    def __init__(self, client: RiskRegisterClient) -> None:
        super().__init__(client.risks_by_ids)


@dataclass(frozen=True)
class RiskRegisterLoaders:
    client: RiskRegisterClient
    summaries: RiskSummaryLoader
    risks: RiskLoader


def risk_register_loaders(context: Any) -> RiskRegisterLoaders:
    """The request's register client and loaders (``context`` is the GraphQL context)."""
    found = context.__dict__.get(_KEY)
    if found is None:
        client = RiskRegisterClient.of(context.clients.risk)
        found = RiskRegisterLoaders(client, RiskSummaryLoader(client), RiskLoader(client))
        context.__dict__[_KEY] = found
    assert isinstance(found, RiskRegisterLoaders)
    return found
