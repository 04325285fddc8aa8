from __future__ import annotations

from gateway.clients.objectives import ObjectivesClient, UpstreamReviewAction
from gateway.loaders.base import ByIdLoader


class ReviewActionLoader(ByIdLoader[UpstreamReviewAction]):
    """Management review actions by id (``GET /v1/management-review-actions?id=…``)."""

    def __init__(self, client: ObjectivesClient) -> None:
        super().__init__(client.review_actions_by_ids)
