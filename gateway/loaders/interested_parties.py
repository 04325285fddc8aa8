from __future__ import annotations

from gateway.clients.context import ContextClient, UpstreamInterestedParty
from gateway.loaders.base import ByIdLoader


class InterestedPartyLoader(ByIdLoader[UpstreamInterestedParty]):
    """Interested parties by id (``GET /v1/interested-parties?id=…`` of the inventory)."""

    def __init__(self, client: ContextClient) -> None:
        super().__init__(client.parties_by_ids)
