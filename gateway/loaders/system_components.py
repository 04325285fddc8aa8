from __future__ import annotations

import uuid
from collections import defaultdict
from typing import NamedTuple

from strawberry.dataloader import DataLoader

from gateway.clients.components import ComponentsClient, UpstreamSystemComponents
from gateway.loaders.base import MAX_BATCH_SIZE


class SystemComponentsKey(NamedTuple):
    system_id: uuid.UUID
    first: int


class SystemComponentsLoader(DataLoader[SystemComponentsKey, UpstreamSystemComponents]):
    """The first components and the total of N systems in one upstream call per page size
    (``GET /v1/components-by-system?system_id=…&system_id=…&first=…``)."""

    def __init__(self, client: ComponentsClient) -> None:
        async def load(keys: list[SystemComponentsKey]) -> list[UpstreamSystemComponents]:
            groups: defaultdict[int, list[uuid.UUID]] = defaultdict(list)
            for key in keys:
                groups[key.first].append(key.system_id)
            found: dict[SystemComponentsKey, UpstreamSystemComponents] = {}
            for first, ids in groups.items():
                unique = list(dict.fromkeys(ids))
                answers = await client.components_by_system(unique, first=first)
                for system_id, answer in zip(unique, answers, strict=True):
                    found[SystemComponentsKey(system_id, first)] = answer
            return [found[key] for key in keys]

        super().__init__(load_fn=load, max_batch_size=MAX_BATCH_SIZE)
