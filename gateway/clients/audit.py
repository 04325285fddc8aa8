"""Client of the audit trail every service keeps (``/v1/audit-trail`` on each of them)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import Field

from gateway.clients.base import Params, UpstreamClient
from gateway.clients.schemas import UpstreamModel, UpstreamPage


class UpstreamAuditEntry(UpstreamModel):
    """``AuditEntryRead`` of ``shared.audit``."""

    seq: int
    id: uuid.UUID
    recorded_at: datetime
    actor: str
    actor_kind: str
    action: str
    entity_type: str
    entity_id: str
    before: Any = None
    after: Any = None
    prev_hash: str
    hash: str


class UpstreamAuditProblem(UpstreamModel):
    seq: int
    problem: str
    detail: str


class UpstreamAuditVerification(UpstreamModel):
    service: str = ""
    entries: int
    valid: bool
    head_seq: int | None = None
    counts: dict[str, int] = Field(default_factory=dict)
    problems: list[UpstreamAuditProblem] = Field(default_factory=list)


class AuditTrailClient(UpstreamClient):
    """The audit trail of one service; :class:`~gateway.clients.UpstreamClients` holds one
    per service."""

    service = "audit"

    async def entries(
        self, *, limit: int, after: str | None = None, filters: Params = ()
    ) -> UpstreamPage[UpstreamAuditEntry]:
        params: list[tuple[str, str | int]] = [("limit", limit), *filters]
        if after:
            params.append(("after", after))
        return await self._get("/v1/audit-trail", UpstreamPage[UpstreamAuditEntry], params=params)

    async def verify(self) -> UpstreamAuditVerification:
        return await self._get("/v1/audit-trail/verify", UpstreamAuditVerification)


class InventoryAuditClient(AuditTrailClient):
    service = "inventory"


class RiskAuditClient(AuditTrailClient):
    service = "risk"


class EvidenceAuditClient(AuditTrailClient):
    service = "evidence"
