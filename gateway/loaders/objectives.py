from __future__ import annotations

from gateway.clients.objectives import ObjectivesClient, UpstreamObjective
from gateway.loaders.base import ByIdLoader


class ObjectiveLoader(ByIdLoader[UpstreamObjective]):
    """AI objectives by id (``GET /v1/objectives?id=…`` of evidence)."""

    def __init__(self, client: ObjectivesClient) -> None:
        super().__init__(client.objectives_by_ids)
