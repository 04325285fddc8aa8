"""Schemas of the documented domain: the status of each item of documented information, the
per-system view and coverage, and evidence requests."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from services.evidence.documented.rules import DocumentedStatus
from shared.http import Page


class ItemSource(enum.StrEnum):
    CLAUSE = "clause"
    COMMONLY_EXPECTED = "commonly_expected"
    ANNEX_A = "annex_a"
    SYSTEM = "system"


class RequestStatus(enum.StrEnum):
    OPEN = "open"
    SATISFIED = "satisfied"
    WITHDRAWN = "withdrawn"


class SystemCounts(BaseModel):
    """Over systems (or system × item pairs): how many are asked for, and their statuses."""

    required: int = 0
    approved: int = 0
    stale: int = 0
    draft: int = 0
    missing: int = 0


class DocumentedItemRead(BaseModel):
    """One catalogue item with its status for the caller's organisation (or for one system)."""

    id: str = Field(description="Stable id: DI-01…, CE-01…, AX-01…, SYS-…")
    source: ItemSource
    clause: str | None
    control: str | None = Field(description="The Annex A control (AX and SYS items)")
    title: str
    form: str | None = Field(description="`maintain (document)` or `retain (record)` when known")
    high_risk_only: bool
    status: DocumentedStatus = Field(
        description="`not_required`, `approved`, `stale` (approved evidence past review_by or "
        "expired), `draft` (only draft/in-review evidence) or `missing`. For a SYS item in the "
        "organisation's list: the worst over the systems asked for it (missing, stale, draft, "
        "approved), `not_required` when no system is."
    )
    reason: str
    satisfied_by: str = Field(description="What evidence counts for this item")
    evidence_ids: list[uuid.UUID] = Field(
        description="The evidence behind the status, best first (at most 10; SYS items in the "
        "organisation's list: none, see `systems`)"
    )
    evidence_count: int
    review_by: date | None = Field(description="Review-by date of the best evidence")
    systems: SystemCounts | None = Field(
        default=None,
        description="SYS items in the organisation's list: the in-scope systems asked for the "
        "item and their statuses (per system: `/v1/systems/{id}/documented-information`)",
    )


class DocumentedItemList(BaseModel):
    items: list[DocumentedItemRead]
    count: int
    as_of: date = Field(description="The day review-by dates are compared with")
    soa_version: int | None = Field(description="Number of the approved SoA applied (null: none)")
    scope_version: int | None = Field(description="Number of the approved scope (null: none)")


class ItemRef(BaseModel):
    id: str
    title: str
    status: DocumentedStatus


class DocumentedSummary(BaseModel):
    """Counts by status over the organisation-level items (DI, CE, AX), what needs work, and the
    system items over the in-scope systems."""

    as_of: date
    soa_version: int | None
    scope_version: int | None
    counts: dict[DocumentedStatus, int]
    attention: list[ItemRef] = Field(
        description="Organisation-level items that are missing, stale or draft, worst first"
    )
    systems_in_scope: int
    system_items: SystemCounts = Field(description="Over every (in-scope system, SYS item) pair")
    requests_open: int = Field(
        description="Open evidence requests not yet satisfied (system_items.required − approved)"
    )


class SystemDocumentedRead(BaseModel):
    system_id: uuid.UUID
    in_scope: bool
    eu_ai_act_tier: str | None
    as_of: date
    items: list[DocumentedItemRead]


class SystemCoverage(SystemCounts):
    system_id: uuid.UUID


class CoverageList(BaseModel):
    items: list[SystemCoverage] = Field(description="One entry per requested system, in order")


class EvidenceRequestRead(BaseModel):
    """A system-level item asked of a system when it entered the scope (also the data of the
    ``evidence_request.*`` events, where ``status`` is `open` or `withdrawn`)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    system_id: uuid.UUID
    item_id: str
    item_title: str
    status: RequestStatus = Field(
        description="`open`, `satisfied` (open, and the item has approved evidence in force for "
        "the system; derived when read) or `withdrawn`"
    )
    requested_at: datetime
    withdrawn_at: datetime | None
    version: int
    updated_at: datetime


EvidenceRequestPage = Page[EvidenceRequestRead]
