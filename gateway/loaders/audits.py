from __future__ import annotations

from gateway.clients.audits import AuditsClient, UpstreamAudit
from gateway.loaders.base import ByIdLoader


class AuditLoader(ByIdLoader[UpstreamAudit]):
    """Internal audits by id (``GET /v1/audits?id=…`` of evidence)."""

    def __init__(self, client: AuditsClient) -> None:
        super().__init__(client.audits_by_ids)
