from __future__ import annotations

import uuid
from collections import defaultdict
from typing import NamedTuple

from strawberry.dataloader import DataLoader

from gateway.clients.risks import RiskRegisterClient, UpstreamSystemRisks
from gateway.loaders.base import MAX_BATCH_SIZE

RiskParams = tuple[tuple[str, str | int], ...]


class SystemRisksKey(NamedTuple):
    """Whose risks, how many of them, and which (the REST filter parameters)."""

    system_id: uuid.UUID
    first: int
    filters: RiskParams = ()


class SystemRisksLoader(DataLoader[SystemRisksKey, UpstreamSystemRisks]):
    """The first risks and the total of N systems in one upstream call per page size and filter
    (``GET /v1/risks-by-system?system_id=…&system_id=…&first=…``)."""

    def __init__(self, client: RiskRegisterClient) -> None:
        async def load(keys: list[SystemRisksKey]) -> list[UpstreamSystemRisks]:
            groups: defaultdict[tuple[int, RiskParams], list[uuid.UUID]] = defaultdict(list)
            for key in keys:
                groups[(key.first, key.filters)].append(key.system_id)
            found: dict[SystemRisksKey, UpstreamSystemRisks] = {}
            for (first, filters), ids in groups.items():
                unique = list(dict.fromkeys(ids))
                answers = await client.risks_by_system(unique, first=first, filters=filters)
                # One answer per system asked, in the order asked.
                for system_id, answer in zip(unique, answers, strict=True):
                    found[SystemRisksKey(system_id, first, filters)] = answer
            return [found[key] for key in keys]

        super().__init__(load_fn=load, max_batch_size=MAX_BATCH_SIZE)
