from __future__ import annotations

from gateway.clients.risks import RiskRegisterClient, UpstreamRisk
from gateway.loaders.base import ByIdLoader


class RiskLoader(ByIdLoader[UpstreamRisk]):
    """Risks of the register by id (``GET /v1/risks?id=…`` of risk)."""

    def __init__(self, client: RiskRegisterClient) -> None:
        super().__init__(client.risks_by_ids)
