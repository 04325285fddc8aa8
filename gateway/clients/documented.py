"""Client of the evidence service's documented information (ISO/IEC 42001 7.5): the status of
each required item, per-system coverage, and the evidence requests of in-scope systems."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from urllib.parse import quote

from pydantic import Field

from gateway.clients.base import Params, UpstreamClient
from gateway.clients.schemas import UpstreamModel, UpstreamPage


class UpstreamSystemCounts(UpstreamModel):
    required: int = 0
    approved: int = 0
    stale: int = 0
    draft: int = 0
    missing: int = 0


class UpstreamDocumentedItem(UpstreamModel):
    """``DocumentedItemRead``: one catalogue item with its status."""

    id: str
    source: str
    clause: str | None = None
    control: str | None = None
    title: str
    form: str | None = None
    high_risk_only: bool = False
    status: str
    reason: str
    satisfied_by: str
    evidence_ids: list[uuid.UUID] = Field(default_factory=list)
    evidence_count: int = 0
    review_by: date | None = None
    systems: UpstreamSystemCounts | None = None


class UpstreamDocumentedList(UpstreamModel):
    items: list[UpstreamDocumentedItem]
    count: int
    as_of: date
    soa_version: int | None = None
    scope_version: int | None = None


class UpstreamItemRef(UpstreamModel):
    id: str
    title: str
    status: str


class UpstreamDocumentedSummary(UpstreamModel):
    as_of: date
    soa_version: int | None = None
    scope_version: int | None = None
    counts: dict[str, int]
    attention: list[UpstreamItemRef]
    systems_in_scope: int
    system_items: UpstreamSystemCounts
    requests_open: int


class UpstreamSystemDocumented(UpstreamModel):
    system_id: uuid.UUID
    in_scope: bool
    eu_ai_act_tier: str | None = None
    as_of: date
    items: list[UpstreamDocumentedItem]


class UpstreamSystemCoverage(UpstreamSystemCounts):
    system_id: uuid.UUID


class UpstreamCoverageList(UpstreamModel):
    items: list[UpstreamSystemCoverage]


class UpstreamEvidenceRequest(UpstreamModel):
    """``EvidenceRequestRead``."""

    id: uuid.UUID
    system_id: uuid.UUID
    item_id: str
    item_title: str
    status: str
    requested_at: datetime
    withdrawn_at: datetime | None = None
    version: int
    updated_at: datetime


class DocumentedClient(UpstreamClient):
    service = "evidence"

    async def items(self, filters: Params = ()) -> UpstreamDocumentedList:
        return await self._get("/v1/documented-information", UpstreamDocumentedList, params=filters)

    async def item(self, item_id: str) -> UpstreamDocumentedItem:
        return await self._get(
            f"/v1/documented-information/{quote(item_id, safe='')}", UpstreamDocumentedItem
        )

    async def summary(self) -> UpstreamDocumentedSummary:
        return await self._get("/v1/documented-information/summary", UpstreamDocumentedSummary)

    async def coverage(self, system_ids: Sequence[uuid.UUID]) -> list[UpstreamSystemCoverage]:
        """Coverage of each system, in the order asked (zeros for one not in scope)."""
        found = await self._get(
            "/v1/documented-information/coverage",
            UpstreamCoverageList,
            params=[("system_id", str(i)) for i in system_ids],
        )
        return found.items

    async def of_system(self, system_id: uuid.UUID) -> UpstreamSystemDocumented:
        return await self._get(
            f"/v1/systems/{system_id}/documented-information", UpstreamSystemDocumented
        )

    async def requests(
        self, *, limit: int, after: str | None = None, filters: Params = ()
    ) -> UpstreamPage[UpstreamEvidenceRequest]:
        params: list[tuple[str, str | int]] = [("limit", limit), *filters]
        if after:
            params.append(("after", after))
        return await self._get(
            "/v1/evidence-requests", UpstreamPage[UpstreamEvidenceRequest], params=params
        )
