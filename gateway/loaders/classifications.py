from __future__ import annotations

import uuid

from strawberry.dataloader import DataLoader

from gateway.clients.classification import (
    ClassificationClient,
    UpstreamClassification,
    UpstreamClassificationSummary,
)
from gateway.loaders.base import MAX_BATCH_SIZE


class ClassificationLoader(DataLoader[uuid.UUID, UpstreamClassification | None]):
    """N systems' current EU AI Act classifications in one upstream call
    (``GET /v1/classifications?system_id=…`` of risk); None when never classified."""

    def __init__(self, client: ClassificationClient) -> None:
        async def load(ids: list[uuid.UUID]) -> list[UpstreamClassification | None]:
            found = {c.system_id: c for c in await client.current_of(ids)}
            return [found.get(i) for i in ids]

        super().__init__(load_fn=load, max_batch_size=MAX_BATCH_SIZE)


class ClassificationSummaryLoader(DataLoader[uuid.UUID, UpstreamClassificationSummary | None]):
    """N systems' current classifications, summarised, in one upstream call
    (``GET /v1/classifications?system_id=…&view=summary`` of risk); None when never classified.

    For a page whose ``classification`` selects only summary fields
    (:data:`gateway.schema.classification.SUMMARY_FIELDS`).
    """

    def __init__(self, client: ClassificationClient) -> None:
        async def load(ids: list[uuid.UUID]) -> list[UpstreamClassificationSummary | None]:
            found = {c.system_id: c for c in await client.summaries_of(ids)}
            return [found.get(i) for i in ids]

        super().__init__(load_fn=load, max_batch_size=MAX_BATCH_SIZE)
        # Whether a ``classification`` field (by its syntax node's id) selects only summary
        # fields; the syntax tree outlives the request that fills this.
        self.sufficient: dict[int, bool] = {}
