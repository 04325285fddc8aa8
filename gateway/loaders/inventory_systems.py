from __future__ import annotations

from gateway.clients import InventoryClient
from gateway.clients.schemas import InventorySystem
from gateway.loaders.base import ByIdLoader


class InventorySystemLoader(ByIdLoader[InventorySystem]):
    """AI systems of the register by id (``GET /v1/ai-systems?id=…``)."""

    def __init__(self, client: InventoryClient) -> None:
        super().__init__(client.systems_by_ids)
