from __future__ import annotations

from gateway.clients.competence import CompetenceClient, UpstreamTraining
from gateway.loaders.base import ByIdLoader


class TrainingLoader(ByIdLoader[UpstreamTraining]):
    """Trainings by id (``GET /v1/trainings?id=…`` of evidence)."""

    def __init__(self, client: CompetenceClient) -> None:
        super().__init__(client.trainings_by_ids)
