from __future__ import annotations

from gateway.clients.competence import CompetenceClient, UpstreamPerson
from gateway.loaders.base import ByIdLoader


class PersonLoader(ByIdLoader[UpstreamPerson]):
    """People by id (``GET /v1/people?id=…`` of evidence)."""

    def __init__(self, client: CompetenceClient) -> None:
        super().__init__(client.people_by_ids)
