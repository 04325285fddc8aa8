from __future__ import annotations

from gateway.clients.audits import AuditsClient, UpstreamCorrectiveAction
from gateway.loaders.base import ByIdLoader


class CorrectiveActionLoader(ByIdLoader[UpstreamCorrectiveAction]):
    """Corrective actions by id (``GET /v1/corrective-actions?id=…`` of evidence)."""

    def __init__(self, client: AuditsClient) -> None:
        super().__init__(client.corrective_actions_by_ids)
