from __future__ import annotations

import uuid
from collections import defaultdict
from typing import NamedTuple

from strawberry.dataloader import DataLoader

from gateway.clients.objectives import ObjectivesClient, UpstreamObjectiveMeasurements

# ``GET /v1/objective-measurements`` takes at most this many objectives per request.
MAX_OBJECTIVES_PER_REQUEST = 100


class LatestMeasurements(NamedTuple):
    """An objective, and how many of its latest measurements to load."""

    objective_id: uuid.UUID
    last: int


class LatestMeasurementsLoader(DataLoader[LatestMeasurements, UpstreamObjectiveMeasurements]):
    """The latest measurements and the total of N objectives in one upstream call per size
    (``GET /v1/objective-measurements?objective_id=…&last=…``). An objective the service does
    not answer for (another organisation's) loads as having none."""

    def __init__(self, client: ObjectivesClient) -> None:
        async def load(keys: list[LatestMeasurements]) -> list[UpstreamObjectiveMeasurements]:
            groups: defaultdict[int, list[uuid.UUID]] = defaultdict(list)
            for key in keys:
                groups[key.last].append(key.objective_id)
            found: dict[LatestMeasurements, UpstreamObjectiveMeasurements] = {}
            for last, ids in groups.items():
                for answer in await client.latest_measurements(list(dict.fromkeys(ids)), last=last):
                    found[LatestMeasurements(answer.objective_id, last)] = answer
            return [
                found.get(key)
                or UpstreamObjectiveMeasurements(
                    objective_id=key.objective_id, total_count=0, items=[]
                )
                for key in keys
            ]

        super().__init__(load_fn=load, max_batch_size=MAX_OBJECTIVES_PER_REQUEST)
