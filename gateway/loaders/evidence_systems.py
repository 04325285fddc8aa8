from __future__ import annotations

from gateway.clients import EvidenceClient
from gateway.clients.schemas import EvidenceSystem
from gateway.loaders.base import ByIdLoader


class EvidenceSystemLoader(ByIdLoader[EvidenceSystem]):
    """Evidence totals of AI systems by id (``GET /v1/systems?id=…`` of evidence)."""

    def __init__(self, client: EvidenceClient) -> None:
        super().__init__(client.systems_by_ids)
