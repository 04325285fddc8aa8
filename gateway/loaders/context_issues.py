from __future__ import annotations

from gateway.clients.context import ContextClient, UpstreamContextIssue
from gateway.loaders.base import ByIdLoader


class ContextIssueLoader(ByIdLoader[UpstreamContextIssue]):
    """Context issues by id (``GET /v1/context-issues?id=…`` of the inventory)."""

    def __init__(self, client: ContextClient) -> None:
        super().__init__(client.issues_by_ids)
