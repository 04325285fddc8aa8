from __future__ import annotations

import uuid

from strawberry.dataloader import DataLoader

from gateway.clients.classification import ClassificationClient, UpstreamClassification
from gateway.loaders.base import MAX_BATCH_SIZE


class ClassificationLoader(DataLoader[uuid.UUID, UpstreamClassification | None]):
    """N systems' current EU AI Act classifications in one upstream call
    (``GET /v1/classifications?system_id=…`` of risk); None when never classified."""

    def __init__(self, client: ClassificationClient) -> None:
        async def load(ids: list[uuid.UUID]) -> list[UpstreamClassification | None]:
            found = {c.system_id: c for c in await client.current_of(ids)}
            return [found.get(i) for i in ids]

        super().__init__(load_fn=load, max_batch_size=MAX_BATCH_SIZE)
