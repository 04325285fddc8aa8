from __future__ import annotations

from gateway.clients.audits import AuditsClient, UpstreamNonconformity
from gateway.loaders.base import ByIdLoader


class NonconformityLoader(ByIdLoader[UpstreamNonconformity]):
    """Nonconformities by id (``GET /v1/nonconformities?id=…`` of evidence)."""

    def __init__(self, client: AuditsClient) -> None:
        super().__init__(client.nonconformities_by_ids)
