from __future__ import annotations

import uuid

from strawberry.dataloader import DataLoader

from gateway.clients.scope import ScopeClient, UpstreamScopeVersion, UpstreamVersionCheck
from gateway.loaders.base import ByIdLoader

# The inventory dry-runs at most this many approvals in one request.
MAX_CHECKS = 100


class ScopeVersionLoader(ByIdLoader[UpstreamScopeVersion]):
    """Scope versions by id (``GET /v1/scope-versions?id=…`` of the inventory)."""

    def __init__(self, client: ScopeClient) -> None:
        super().__init__(client.versions_by_ids)


class ScopeCheckLoader(DataLoader[uuid.UUID, UpstreamVersionCheck | None]):
    """Approval dry runs of many scope versions (``GET /v1/scope-versions/checks?id=…``)."""

    def __init__(self, client: ScopeClient) -> None:
        async def load(ids: list[uuid.UUID]) -> list[UpstreamVersionCheck | None]:
            found = {c.scope_version_id: c for c in await client.checks(ids)}
            return [found.get(i) for i in ids]

        super().__init__(load_fn=load, max_batch_size=MAX_CHECKS)
