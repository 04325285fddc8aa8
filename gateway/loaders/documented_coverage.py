from __future__ import annotations

import uuid

from strawberry.dataloader import DataLoader

from gateway.clients.documented import DocumentedClient, UpstreamSystemCoverage
from gateway.loaders.base import MAX_BATCH_SIZE


class DocumentedCoverageLoader(DataLoader[uuid.UUID, UpstreamSystemCoverage]):
    """How many system items of documented information N systems are asked for and their
    statuses, in one upstream call (``GET /v1/documented-information/coverage?system_id=…``);
    a system not in scope has zeros."""

    def __init__(self, client: DocumentedClient) -> None:
        async def load(ids: list[uuid.UUID]) -> list[UpstreamSystemCoverage]:
            found = {c.system_id: c for c in await client.coverage(ids)}
            return [found.get(i) or UpstreamSystemCoverage(system_id=i) for i in ids]

        super().__init__(load_fn=load, max_batch_size=MAX_BATCH_SIZE)
