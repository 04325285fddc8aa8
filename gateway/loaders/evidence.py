from __future__ import annotations

from gateway.clients.evidence_items import EvidenceItemsClient, UpstreamEvidence
from gateway.loaders.base import ByIdLoader


class EvidenceLoader(ByIdLoader[UpstreamEvidence]):
    """Evidence items by id (``GET /v1/evidence?id=…`` of evidence)."""

    def __init__(self, client: EvidenceItemsClient) -> None:
        super().__init__(client.evidence_by_ids)
