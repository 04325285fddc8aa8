"""Documented information (ISO/IEC 42001 7.5, evidence service): what the standard, the
approved SoA and the in-scope systems require, the status of each item, per-system coverage,
and the evidence requests opened when systems enter the scope."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from gateway.clients.documented import (
    UpstreamDocumentedItem,
    UpstreamEvidenceRequest,
    UpstreamSystemCounts,
)
from gateway.schema.context import Info
from gateway.schema.evidence import Evidence
from gateway.schema.ids import parse_node_id
from gateway.schema.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Position, check_page_size
from shared.errors import NotFound

if TYPE_CHECKING:
    from gateway.schema.ai_systems import AISystem


@strawberry.enum(
    name="DocumentedStatus",
    description="`APPROVED`: approved evidence in force; `STALE`: approved evidence past its "
    "review date or expired; `DRAFT`: only draft or in-review evidence; `MISSING`: none; "
    "`NOT_REQUIRED`: the item does not apply.",
)
class DocumentedStatus(enum.Enum):
    MISSING = "missing"
    DRAFT = "draft"
    APPROVED = "approved"
    STALE = "stale"
    NOT_REQUIRED = "not_required"


@strawberry.enum(
    name="DocumentedSource",
    description="Why an item is asked for: a clause (DI-), commonly expected (CE-), an Annex A "
    "control (AX-) or per AI system (SYS-).",
)
class DocumentedSource(enum.Enum):
    CLAUSE = "clause"
    COMMONLY_EXPECTED = "commonly_expected"
    ANNEX_A = "annex_a"
    SYSTEM = "system"


@strawberry.enum(
    name="EvidenceRequestStatus",
    description="`SATISFIED`: open, and the item has approved evidence in force for the system.",
)
class EvidenceRequestStatus(enum.Enum):
    OPEN = "open"
    SATISFIED = "satisfied"
    WITHDRAWN = "withdrawn"


@strawberry.type(
    name="EvidenceCoverage",
    description="System items of documented information: how many are asked for and their "
    "statuses (all zero for a system outside the scope).",
)
class EvidenceCoverage:
    required: int
    approved: int
    stale: int
    draft: int
    missing: int

    @classmethod
    def from_upstream(cls, c: UpstreamSystemCounts) -> EvidenceCoverage:
        return cls(
            required=c.required,
            approved=c.approved,
            stale=c.stale,
            draft=c.draft,
            missing=c.missing,
        )


async def load_evidence_coverage(info: Info, system_id: uuid.UUID) -> EvidenceCoverage:
    """Through the request's DataLoader: one upstream call for every system on the page."""
    found = await info.context.loaders.documented_coverage.load(system_id)
    return EvidenceCoverage.from_upstream(found)


@strawberry.type(
    name="DocumentedInformation",
    description="An item of documented information the AIMS needs, with its status.",
)
class DocumentedInformation:
    id: str = strawberry.field(description="Stable id: `DI-01`…, `CE-01`…, `AX-01`…, `SYS-…`.")
    source: DocumentedSource
    clause: str | None
    control: str | None = strawberry.field(description="The Annex A control (AX and SYS items).")
    title: str
    form: str | None = strawberry.field(description="`maintain (document)` or `retain (record)`.")
    high_risk_only: bool
    status: DocumentedStatus
    reason: str = strawberry.field(description="Why it has this status.")
    satisfied_by: str = strawberry.field(description="What evidence counts for it.")
    evidence_ids: list[uuid.UUID] = strawberry.field(
        description="The evidence behind the status, best first (at most 10)."
    )
    evidence_count: int
    review_by: date | None = strawberry.field(description="Review date of the best evidence.")
    systems: EvidenceCoverage | None = strawberry.field(
        description="SYS items in the organisation's list: the in-scope systems asked for it "
        "and their statuses."
    )

    @classmethod
    def from_upstream(cls, d: UpstreamDocumentedItem) -> DocumentedInformation:
        return cls(
            id=d.id,
            source=DocumentedSource(d.source),
            clause=d.clause,
            control=d.control,
            title=d.title,
            form=d.form,
            high_risk_only=d.high_risk_only,
            status=DocumentedStatus(d.status),
            reason=d.reason,
            satisfied_by=d.satisfied_by,
            evidence_ids=list(d.evidence_ids),
            evidence_count=d.evidence_count,
            review_by=d.review_by,
            systems=EvidenceCoverage.from_upstream(d.systems) if d.systems else None,
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="The evidence behind the status, best first (batched across items)."
    )
    async def evidence(self, info: Info) -> list[Evidence]:
        found = await info.context.loaders.evidence.load_many(self.evidence_ids)
        return [Evidence.from_upstream(e) for e in found if e is not None]


@strawberry.type(name="DocumentedInformationList")
class DocumentedInformationList:
    items: list[DocumentedInformation]
    count: int
    as_of: date = strawberry.field(description="The day review dates are compared with.")
    soa_version: int | None = strawberry.field(description="The approved SoA applied.")
    scope_version: int | None = strawberry.field(description="The approved scope applied.")


@strawberry.type(name="DocumentedStatusCount")
class DocumentedStatusCount:
    status: DocumentedStatus
    count: int


@strawberry.type(name="DocumentedInformationRef")
class DocumentedInformationRef:
    id: str
    title: str
    status: DocumentedStatus


@strawberry.type(
    name="DocumentedInformationSummary",
    description="Counts by status over the organisation-level items, what needs work, and the "
    "system items over the in-scope systems.",
)
class DocumentedInformationSummary:
    as_of: date
    soa_version: int | None
    scope_version: int | None
    counts: list[DocumentedStatusCount]
    attention: list[DocumentedInformationRef] = strawberry.field(
        description="Organisation-level items missing, stale or draft, worst first."
    )
    systems_in_scope: int
    system_items: EvidenceCoverage = strawberry.field(
        description="Over every (in-scope system, SYS item) pair."
    )
    requests_open: int = strawberry.field(description="Open evidence requests not yet satisfied.")


@strawberry.type(
    name="SystemDocumentedInformation",
    description="The system items of one AI system with their status.",
)
class SystemDocumentedInformation:
    system_id: uuid.UUID
    in_scope: bool
    eu_ai_act_tier: str | None = strawberry.field(name="euAiActTier")
    as_of: date
    items: list[DocumentedInformation]


@strawberry.type(
    name="EvidenceRequest",
    description="A system item asked of a system when it entered the scope.",
)
class EvidenceRequest:
    id: uuid.UUID
    system_id: uuid.UUID
    item_id: str = strawberry.field(description="The documented-information item (`SYS-…`).")
    item_title: str
    status: EvidenceRequestStatus
    requested_at: datetime
    withdrawn_at: datetime | None
    version: int
    updated_at: datetime

    @classmethod
    def from_upstream(cls, r: UpstreamEvidenceRequest) -> EvidenceRequest:
        return cls(
            id=r.id,
            system_id=r.system_id,
            item_id=r.item_id,
            item_title=r.item_title,
            status=EvidenceRequestStatus(r.status),
            requested_at=r.requested_at,
            withdrawn_at=r.withdrawn_at,
            version=r.version,
            updated_at=r.updated_at,
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="aiSystem", description="The system asked (batched across the page)."
    )
    async def ai_system(
        self, info: Info
    ) -> Annotated[AISystem, strawberry.lazy("gateway.schema.ai_systems")] | None:
        from gateway.schema.ai_systems import AISystem

        system = await info.context.loaders.inventory_systems.load(self.system_id)
        return AISystem.from_upstream(system) if system is not None else None


@strawberry.type(name="EvidenceRequestEdge")
class EvidenceRequestEdge:
    cursor: str
    node: EvidenceRequest


@strawberry.type(name="EvidenceRequestConnection", description="Requests in creation order.")
class EvidenceRequestConnection:
    page_info: relay.PageInfo
    edges: list[EvidenceRequestEdge]


@strawberry.input(name="DocumentedInformationFilter")
class DocumentedInformationFilter:
    statuses: list[DocumentedStatus] | None = None
    sources: list[DocumentedSource] | None = None
    clause: str | None = strawberry.field(
        default=None, description="Items of this clause and its sub-clauses (`7.5`)."
    )
    control: str | None = strawberry.field(
        default=None, description="Items of this Annex A control (`A.6.2.8`)."
    )

    def params(self) -> list[tuple[str, str | int]]:
        out: list[tuple[str, str | int]] = [("status", s.value) for s in self.statuses or []]
        out += [("source", s.value) for s in self.sources or []]
        if self.clause is not None:
            out.append(("clause", self.clause))
        if self.control is not None:
            out.append(("control", self.control))
        return out


@strawberry.input(name="EvidenceRequestFilter")
class EvidenceRequestFilter:
    system_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="AI systems (IDs or UUIDs)."
    )
    statuses: list[EvidenceRequestStatus] | None = None
    item_ids: list[str] | None = None

    def params(self) -> list[tuple[str, str | int]]:
        out: list[tuple[str, str | int]] = [
            ("system_id", str(parse_node_id(v, "AISystem", field="systemIds")))
            for v in self.system_ids or []
        ]
        out += [("status", s.value) for s in self.statuses or []]
        out += [("item_id", v) for v in self.item_ids or []]
        return out


@strawberry.type
class DocumentedQuery:
    @strawberry.field(  # type: ignore[untyped-decorator]
        name="documentedInformation",
        description="Every item of documented information with its status (the catalogue is "
        "small, so not paginated).",
    )
    async def documented_information(
        self, info: Info, filter: DocumentedInformationFilter | None = None
    ) -> DocumentedInformationList:
        found = await info.context.clients.documented.items(filter.params() if filter else ())
        return DocumentedInformationList(
            items=[DocumentedInformation.from_upstream(d) for d in found.items],
            count=found.count,
            as_of=found.as_of,
            soa_version=found.soa_version,
            scope_version=found.scope_version,
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="documentedInformationItem",
        description="One item of documented information (`DI-01`); null when there is none.",
    )
    async def documented_information_item(
        self, info: Info, id: str
    ) -> DocumentedInformation | None:
        try:
            found = await info.context.clients.documented.item(id)
        except NotFound:
            return None
        return DocumentedInformation.from_upstream(found)

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="documentedInformationSummary",
        description="Counts by status and what needs work.",
    )
    async def documented_information_summary(self, info: Info) -> DocumentedInformationSummary:
        s = await info.context.clients.documented.summary()
        return DocumentedInformationSummary(
            as_of=s.as_of,
            soa_version=s.soa_version,
            scope_version=s.scope_version,
            counts=[
                DocumentedStatusCount(status=DocumentedStatus(k), count=v)
                for k, v in s.counts.items()
            ],
            attention=[
                DocumentedInformationRef(id=a.id, title=a.title, status=DocumentedStatus(a.status))
                for a in s.attention
            ],
            systems_in_scope=s.systems_in_scope,
            system_items=EvidenceCoverage.from_upstream(s.system_items),
            requests_open=s.requests_open,
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="systemDocumentedInformation",
        description="The system items of one AI system (ID or UUID) with their status.",
    )
    async def system_documented_information(
        self, info: Info, system_id: strawberry.ID
    ) -> SystemDocumentedInformation:
        found = await info.context.clients.documented.of_system(
            parse_node_id(system_id, "AISystem", field="systemId")
        )
        return SystemDocumentedInformation(
            system_id=found.system_id,
            in_scope=found.in_scope,
            eu_ai_act_tier=found.eu_ai_act_tier,
            as_of=found.as_of,
            items=[DocumentedInformation.from_upstream(d) for d in found.items],
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="evidenceRequests",
        description=f"Evidence requests opened when systems entered the scope, in creation "
        f"order. `first` is at most {MAX_PAGE_SIZE}.",
    )
    async def evidence_requests(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: EvidenceRequestFilter | None = None,
    ) -> EvidenceRequestConnection:
        check_page_size(first)
        start = Position.decode(after)
        page = await info.context.clients.documented.requests(
            limit=start.skip + first,
            after=start.upstream,
            filters=filter.params() if filter else (),
        )
        items = list(page.items)[start.skip :]
        edges: list[EvidenceRequestEdge] = []
        for index, item in enumerate(items):
            is_last = index == len(items) - 1
            position = (
                Position(upstream=page.next_cursor)
                if is_last and page.next_cursor
                else Position(upstream=start.upstream, skip=start.skip + index + 1)
            )
            edges.append(
                EvidenceRequestEdge(
                    cursor=position.encode(), node=EvidenceRequest.from_upstream(item)
                )
            )
        return EvidenceRequestConnection(
            edges=edges,
            page_info=relay.PageInfo(
                has_next_page=page.next_cursor is not None,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )
