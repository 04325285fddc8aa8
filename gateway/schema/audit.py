"""The audit trail every service keeps: who changed what and when, in a hash chain an auditor
can verify. Each service keeps its own trail; a query names the service."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from gateway.clients.audit import UpstreamAuditEntry, UpstreamAuditVerification
from gateway.schema.context import Info
from gateway.schema.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Position, check_page_size


@strawberry.enum(name="AuditedService", description="The service whose audit trail to read.")
class AuditedService(enum.Enum):
    INVENTORY = "inventory"
    RISK = "risk"
    EVIDENCE = "evidence"


@strawberry.type(name="AuditTrailEntry", description="One change recorded in the audit trail.")
class AuditTrailEntry:
    seq: int = strawberry.field(description="Position in the organisation's trail (1, 2, 3…).")
    id: uuid.UUID
    recorded_at: datetime
    actor: str = strawberry.field(description="Subject of the caller, or `system:<worker>`.")
    actor_kind: str = strawberry.field(description="`user`, `api_key` or `system`.")
    action: str = strawberry.field(description="Event type or verb.")
    entity_type: str
    entity_id: str
    before: JSON | None = strawberry.field(description="State before (null for a creation).")
    after: JSON | None = strawberry.field(description="State after (null for a deletion).")
    prev_hash: str
    hash: str

    @classmethod
    def from_upstream(cls, e: UpstreamAuditEntry) -> AuditTrailEntry:
        return cls(
            seq=e.seq,
            id=e.id,
            recorded_at=e.recorded_at,
            actor=e.actor,
            actor_kind=e.actor_kind,
            action=e.action,
            entity_type=e.entity_type,
            entity_id=e.entity_id,
            before=e.before,
            after=e.after,
            prev_hash=e.prev_hash,
            hash=e.hash,
        )


@strawberry.type(name="AuditTrailEntryEdge")
class AuditTrailEntryEdge:
    cursor: str
    node: AuditTrailEntry


@strawberry.type(name="AuditTrailConnection", description="Audit trail entries, oldest first.")
class AuditTrailConnection:
    page_info: relay.PageInfo
    edges: list[AuditTrailEntryEdge]


@strawberry.type(name="AuditTrailProblem", description="A place where the chain does not hold.")
class AuditTrailProblem:
    seq: int
    problem: str = strawberry.field(
        description="`edited`, `reordered`, `deleted`, `broken-link` or `head-mismatch`."
    )
    detail: str


@strawberry.type(name="AuditTrailProblemCount")
class AuditTrailProblemCount:
    problem: str
    count: int


@strawberry.type(
    name="AuditTrailVerification",
    description="The result of recomputing every entry's hash and link of one service's trail.",
)
class AuditTrailVerification:
    service: AuditedService
    entries: int = strawberry.field(description="Entries read.")
    valid: bool
    head_seq: int | None = strawberry.field(description="The last seq the head records.")
    counts: list[AuditTrailProblemCount]
    problems: list[AuditTrailProblem] = strawberry.field(description="In trail order.")

    @classmethod
    def from_upstream(
        cls, service: AuditedService, v: UpstreamAuditVerification
    ) -> AuditTrailVerification:
        return cls(
            service=service,
            entries=v.entries,
            valid=v.valid,
            head_seq=v.head_seq,
            counts=[AuditTrailProblemCount(problem=k, count=n) for k, n in v.counts.items()],
            problems=[
                AuditTrailProblem(seq=p.seq, problem=p.problem, detail=p.detail) for p in v.problems
            ],
        )


@strawberry.input(name="AuditTrailFilter")
class AuditTrailFilter:
    entity_id: str | None = strawberry.field(default=None, description="Only this entity's.")
    entity_type: str | None = strawberry.field(default=None, description="e.g. `system`.")
    action: str | None = strawberry.field(
        default=None, description="e.g. `aims.inventory.system.updated`."
    )
    since: datetime | None = strawberry.field(
        default=None, description="Only entries recorded at or after this instant."
    )

    def params(self) -> list[tuple[str, str | int]]:
        out: list[tuple[str, str | int]] = []
        for name in ("entity_id", "entity_type", "action"):
            if (value := getattr(self, name)) is not None:
                out.append((name, value))
        if self.since is not None:
            out.append(("since", self.since.isoformat()))
        return out


@strawberry.type
class AuditQuery:
    @strawberry.field(  # type: ignore[untyped-decorator]
        name="auditTrail",
        description=f"One service's audit trail for your organisation, oldest first (roles: "
        f"admin, manager, auditor). `first` is at most {MAX_PAGE_SIZE}.",
    )
    async def audit_trail(
        self,
        info: Info,
        service: AuditedService,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: AuditTrailFilter | None = None,
    ) -> AuditTrailConnection:
        check_page_size(first)
        start = Position.decode(after)
        page = await info.context.clients.audit_trails[service.value].entries(
            limit=start.skip + first,
            after=start.upstream,
            filters=filter.params() if filter else (),
        )
        items = list(page.items)[start.skip :]
        edges: list[AuditTrailEntryEdge] = []
        for index, item in enumerate(items):
            is_last = index == len(items) - 1
            position = (
                Position(upstream=page.next_cursor)
                if is_last and page.next_cursor
                else Position(upstream=start.upstream, skip=start.skip + index + 1)
            )
            edges.append(
                AuditTrailEntryEdge(
                    cursor=position.encode(), node=AuditTrailEntry.from_upstream(item)
                )
            )
        return AuditTrailConnection(
            edges=edges,
            page_info=relay.PageInfo(
                has_next_page=page.next_cursor is not None,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="auditTrailVerification",
        description="Verify one service's hash chain for your organisation (roles: admin, "
        "auditor); every edited, reordered or deleted entry is reported.",
    )
    async def audit_trail_verification(
        self, info: Info, service: AuditedService
    ) -> AuditTrailVerification:
        found = await info.context.clients.audit_trails[service.value].verify()
        return AuditTrailVerification.from_upstream(service, found)
