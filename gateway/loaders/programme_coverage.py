from __future__ import annotations

import uuid

from strawberry.dataloader import DataLoader

from gateway.clients.audits import AuditsClient, UpstreamCoverage
from gateway.loaders.base import MAX_BATCH_SIZE

# ``GET /v1/coverage-by-programme`` takes at most this many programmes per request.
MAX_PROGRAMMES_PER_REQUEST = 100


class ProgrammeCoverageLoader(DataLoader[uuid.UUID, UpstreamCoverage | None]):
    """The coverage and gaps of N audit programmes in one upstream call per 100 programmes
    (``GET /v1/coverage-by-programme?programme_id=…``); a programme the service does not answer
    for (another organisation's) loads as None."""

    def __init__(self, client: AuditsClient) -> None:
        async def load(ids: list[uuid.UUID]) -> list[UpstreamCoverage | None]:
            unique = list(dict.fromkeys(ids))
            found: dict[uuid.UUID, UpstreamCoverage] = {}
            for start in range(0, len(unique), MAX_PROGRAMMES_PER_REQUEST):
                chunk = unique[start : start + MAX_PROGRAMMES_PER_REQUEST]
                found.update((c.programme_id, c) for c in await client.coverage_by_programme(chunk))
            return [found.get(i) for i in ids]

        super().__init__(load_fn=load, max_batch_size=MAX_BATCH_SIZE)
