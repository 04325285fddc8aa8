from __future__ import annotations

from gateway.clients.audits import AuditsClient, UpstreamFinding
from gateway.loaders.base import ByIdLoader


class FindingLoader(ByIdLoader[UpstreamFinding]):
    """Audit findings by id (``GET /v1/findings?id=…`` of evidence)."""

    def __init__(self, client: AuditsClient) -> None:
        super().__init__(client.findings_by_ids)
