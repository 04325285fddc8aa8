from __future__ import annotations

import uuid
from collections import defaultdict

from strawberry.dataloader import DataLoader

from gateway.clients.audits import (
    MAX_NONCONFORMITIES_PER_REQUEST,
    AuditsClient,
    UpstreamCorrectiveAction,
)


class ActionsByNonconformityLoader(DataLoader[uuid.UUID, list[UpstreamCorrectiveAction]]):
    """Every corrective action of N nonconformities, oldest first, in one upstream call per 500
    (``GET /v1/corrective-actions?nonconformity_id=…``)."""

    def __init__(self, client: AuditsClient) -> None:
        async def load(nc_ids: list[uuid.UUID]) -> list[list[UpstreamCorrectiveAction]]:
            found: defaultdict[uuid.UUID, list[UpstreamCorrectiveAction]] = defaultdict(list)
            for action in await client.actions_of_nonconformities(list(dict.fromkeys(nc_ids))):
                found[action.nonconformity_id].append(action)
            return [found[i] for i in nc_ids]

        super().__init__(load_fn=load, max_batch_size=MAX_NONCONFORMITIES_PER_REQUEST)
