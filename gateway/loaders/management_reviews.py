from __future__ import annotations

from gateway.clients.objectives import ObjectivesClient, UpstreamManagementReview
from gateway.loaders.base import ByIdLoader


class ManagementReviewLoader(ByIdLoader[UpstreamManagementReview]):
    """Management reviews by id (``GET /v1/management-reviews?id=…`` of evidence)."""

    def __init__(self, client: ObjectivesClient) -> None:
        super().__init__(client.reviews_by_ids)
