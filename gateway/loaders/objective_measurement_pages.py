from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date
from typing import NamedTuple

from strawberry.dataloader import DataLoader

from gateway.clients.objectives import ObjectivesClient, UpstreamMeasurementPage
from gateway.loaders.base import MAX_BATCH_SIZE

# ``GET /v1/measurements-by-objective`` takes at most this many objectives per request.
MAX_OBJECTIVES_PER_REQUEST = 100


class MeasurementPageKey(NamedTuple):
    """An objective, how many of its first measurements, and from when to when."""

    objective_id: uuid.UUID
    first: int
    since: date | None = None
    until: date | None = None


class MeasurementPageLoader(DataLoader[MeasurementPageKey, UpstreamMeasurementPage]):
    """The first page of measurements of N objectives (oldest first) in one upstream call per
    page size and period (``GET /v1/measurements-by-objective?objective_id=…&limit=…``). Its
    ``next_cursor`` pages on at ``/v1/objectives/{id}/measurements``. An objective the service
    does not answer for (another organisation's) loads as having none."""

    def __init__(self, client: ObjectivesClient) -> None:
        async def load(keys: list[MeasurementPageKey]) -> list[UpstreamMeasurementPage]:
            groups: defaultdict[tuple[int, date | None, date | None], list[uuid.UUID]] = (
                defaultdict(list)
            )
            for key in keys:
                groups[(key.first, key.since, key.until)].append(key.objective_id)
            found: dict[MeasurementPageKey, UpstreamMeasurementPage] = {}
            for (first, since, until), ids in groups.items():
                filters: list[tuple[str, str | int]] = []
                if since is not None:
                    filters.append(("since", since.isoformat()))
                if until is not None:
                    filters.append(("until", until.isoformat()))
                unique = list(dict.fromkeys(ids))
                for start in range(0, len(unique), MAX_OBJECTIVES_PER_REQUEST):
                    chunk = unique[start : start + MAX_OBJECTIVES_PER_REQUEST]
                    pages = await client.measurements_by_objective(
                        chunk, limit=first, filters=filters
                    )
                    for page in pages:
                        found[MeasurementPageKey(page.objective_id, first, since, until)] = page
            return [
                found.get(key) or UpstreamMeasurementPage(objective_id=key.objective_id, items=[])
                for key in keys
            ]

        super().__init__(load_fn=load, max_batch_size=MAX_BATCH_SIZE)
