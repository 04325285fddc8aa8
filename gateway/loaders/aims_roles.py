from __future__ import annotations

from gateway.clients.competence import CompetenceClient, UpstreamAIMSRole
from gateway.loaders.base import ByIdLoader


class AIMSRoleLoader(ByIdLoader[UpstreamAIMSRole]):
    """AIMS roles by id (``GET /v1/aims-roles?id=…`` of evidence)."""

    def __init__(self, client: CompetenceClient) -> None:
        super().__init__(client.roles_by_ids)
