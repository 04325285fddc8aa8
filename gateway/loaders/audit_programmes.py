from __future__ import annotations

from gateway.clients.audits import AuditsClient, UpstreamProgramme
from gateway.loaders.base import ByIdLoader


class AuditProgrammeLoader(ByIdLoader[UpstreamProgramme]):
    """Audit programmes by id (``GET /v1/audit-programmes?id=…`` of evidence)."""

    def __init__(self, client: AuditsClient) -> None:
        super().__init__(client.programmes_by_ids)
