from __future__ import annotations

from gateway.clients import RiskClient
from gateway.clients.schemas import RiskSystem
from gateway.loaders.base import ByIdLoader


class RiskSystemLoader(ByIdLoader[RiskSystem]):
    """The risk service's views of AI systems by id (``GET /v1/systems?id=…``)."""

    def __init__(self, client: RiskClient) -> None:
        super().__init__(client.systems_by_ids)
