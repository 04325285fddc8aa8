"""DataLoader of current EU AI Act classifications by system id (``GET /v1/classifications``).

It hangs off the request's context (built on first use), so it lives exactly as long as the
request, like the loaders of :class:`gateway.loaders.Loaders`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from strawberry.dataloader import DataLoader

from gateway.clients.classification import ClassificationClient, UpstreamClassification
from gateway.loaders.base import MAX_BATCH_SIZE

_KEY = "_classification_loaders"


class ClassificationLoader(DataLoader[uuid.UUID, UpstreamClassification | None]):
    """N systems' current classifications in one upstream call; None when never classified."""

    def __init__(self, client: ClassificationClient) -> None:
        async def load(ids: list[uuid.UUID]) -> list[UpstreamClassification | None]:
            found = {c.system_id: c for c in await client.current_of(ids)}
            return [found.get(i) for i in ids]

        super().__init__(load_fn=load, max_batch_size=MAX_BATCH_SIZE)


@dataclass(frozen=True)
class ClassificationLoaders:
    client: ClassificationClient
    current: ClassificationLoader


def classification_loaders(context: Any) -> ClassificationLoaders:
    """The request's classification client and loader (``context`` is the GraphQL context)."""
    found = context.__dict__.get(_KEY)
    if found is None:
        client = ClassificationClient.of(context.clients.risk)
        found = ClassificationLoaders(client, ClassificationLoader(client))
        context.__dict__[_KEY] = found
    assert isinstance(found, ClassificationLoaders)
    return found
