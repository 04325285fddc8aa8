from __future__ import annotations

from gateway.clients.competence import CompetenceClient, UpstreamCompetence
from gateway.loaders.base import ByIdLoader


class CompetenceLoader(ByIdLoader[UpstreamCompetence]):
    """Competences by id (``GET /v1/competences?id=…`` of evidence)."""

    def __init__(self, client: CompetenceClient) -> None:
        super().__init__(client.competences_by_ids)
