"""The AIMS scope (ISO/IEC 42001 4.3) over GraphQL: versions, the current scope, diffs,
drafting and approval with every reason it is refused."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay

from gateway.clients.scope import (
    UpstreamBoundary,
    UpstreamBoundaryDiff,
    UpstreamScopeSystem,
    UpstreamScopeVersion,
    UpstreamWarning,
)
from gateway.schema.ai_systems import AISystem
from gateway.schema.arguments import merge_filter_argument
from gateway.schema.context import Info
from gateway.schema.embedded_pages import slice_page
from gateway.schema.errors import UserError, attempt
from gateway.schema.ids import parse_node_id
from gateway.schema.improvement import resolve_nodes
from gateway.schema.organisation_context import (
    ContextMutation,
    ContextQuery,
    page_edges,
)
from gateway.schema.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Position, check_page_size
from shared.errors import NotFound


@strawberry.enum(description="Where a scope version is in its life: draft → approved → superseded.")
class ScopeStatus(enum.Enum):
    DRAFT = "draft"
    APPROVED = "approved"
    SUPERSEDED = "superseded"


@strawberry.type(
    name="ScopeBoundary",
    description="A business activity, location or department, in or out of scope.",
)
class ScopeBoundary:
    name: str
    included: bool
    justification: str

    @classmethod
    def of(cls, b: UpstreamBoundary) -> ScopeBoundary:
        return cls(name=b.name, included=b.included, justification=b.justification)


@strawberry.type(name="ScopeSystem", description="An AI system of the register, in or out.")
class ScopeSystem:
    system_id: uuid.UUID = strawberry.field(description="The register's UUID of the system.")
    included: bool
    justification: str

    @classmethod
    def of(cls, s: UpstreamScopeSystem) -> ScopeSystem:
        return cls(system_id=s.system_id, included=s.included, justification=s.justification)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="The system; null when it is not (or no longer) in the register."
    )
    async def ai_system(self, info: Info) -> AISystem | None:
        system = await info.context.loaders.inventory_systems.load(self.system_id)
        return AISystem.from_upstream(system) if system is not None else None


@strawberry.type(name="ScopeSystemEdge")
class ScopeSystemEdge:
    cursor: str
    node: ScopeSystem


@strawberry.type(name="ScopeSystemConnection", description="A page of a scope's systems.")
class ScopeSystemConnection:
    page_info: relay.PageInfo
    edges: list[ScopeSystemEdge]
    total_count: int = strawberry.field(description="Items in the whole list, every page.")


@strawberry.input(name="ScopeSystemFilter", description="Which of the listed systems to page.")
class ScopeSystemFilter:
    included: bool | None = strawberry.field(
        default=None, description="Only those in (true) or out of (false) scope."
    )


_EMBEDDED = (
    " Paged by the gateway over the one upstream document that holds the whole list (no extra "
    "upstream call per page)."
)


def scope_systems_page(
    systems: list[ScopeSystem],
    first: int,
    after: str | None,
    filter: ScopeSystemFilter | None = None,
) -> ScopeSystemConnection:
    if filter is not None and filter.included is not None:
        systems = [s for s in systems if s.included == filter.included]
    pairs, page_info = slice_page(systems, first, after, lambda s: s)
    return ScopeSystemConnection(
        page_info=page_info,
        edges=[ScopeSystemEdge(cursor=c, node=s) for c, s in pairs],
        total_count=len(systems),
    )


@strawberry.type(name="ScopeRefusalReason", description="Why a scope version cannot be approved.")
class ScopeRefusalReason:
    code: str = strawberry.field(
        description="`excluded-high-risk-system`, `excluded-sensitive-system-unjustified`, "
        "`no-boundaries`, `in-scope-system-without-owner` or `unknown-system`."
    )
    message: str
    system_id: uuid.UUID | None


@strawberry.type(name="DependencyPathNode", description="One step of a dependency path.")
class DependencyPathNode:
    type: str = strawberry.field(description="`system`, `component` or `vendor`.")
    id: uuid.UUID
    name: str


@strawberry.type(
    name="ScopeWarning",
    description="An in-scope system depends on something outside the scope (not blocking).",
)
class ScopeWarning:
    code: str
    message: str
    system_id: uuid.UUID
    path: list[DependencyPathNode] = strawberry.field(
        description="From the in-scope system to the dependency outside the scope."
    )

    @classmethod
    def of(cls, w: UpstreamWarning) -> ScopeWarning:
        return cls(
            code=w.code,
            message=w.message,
            system_id=w.system_id,
            path=[DependencyPathNode(type=n.type, id=n.id, name=n.name) for n in w.path],
        )


@strawberry.type(name="ScopeCheck", description="What approving the version now would answer.")
class ScopeCheck:
    approvable: bool
    reasons: list[ScopeRefusalReason]
    warnings: list[ScopeWarning]


@strawberry.type(
    name="ScopeVersion", description="A version of the AIMS scope (ISO/IEC 42001 4.3)."
)
class ScopeVersion(relay.Node):
    scope_version_id: relay.NodeID[uuid.UUID]
    number: int = strawberry.field(description="1, 2, 3… in the order versions were created.")
    status: ScopeStatus
    statement: str
    activities: list[ScopeBoundary]
    locations: list[ScopeBoundary]
    departments: list[ScopeBoundary]
    systems: list[ScopeSystem] = strawberry.field(
        deprecation_reason="Use systemsConnection: the register grows, this list has no paging."
    )
    based_on_id: uuid.UUID | None = strawberry.field(
        description="The approved version this draft was copied from."
    )
    approved_by: str | None
    approved_at: datetime | None
    superseded_at: datetime | None
    created_by: str
    version: int = strawberry.field(description="Increases by one on every change.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_upstream(cls, v: UpstreamScopeVersion) -> ScopeVersion:
        return cls(
            scope_version_id=v.id,
            number=v.number,
            status=ScopeStatus(v.status),
            statement=v.statement,
            activities=[ScopeBoundary.of(b) for b in v.activities],
            locations=[ScopeBoundary.of(b) for b in v.locations],
            departments=[ScopeBoundary.of(b) for b in v.departments],
            systems=[ScopeSystem.of(s) for s in v.systems],
            based_on_id=v.based_on_id,
            approved_by=v.approved_by,
            approved_at=v.approved_at,
            superseded_at=v.superseded_at,
            created_by=v.created_by,
            version=v.version,
            created_at=v.created_at,
            updated_at=v.updated_at,
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="systemsConnection",
        description="The AI systems the version lists, in or out of scope, in its order. The "
        "list is stored and approved as part of the version document;" + _EMBEDDED,
    )
    def systems_connection(
        self,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: ScopeSystemFilter | None = None,
    ) -> ScopeSystemConnection:
        return scope_systems_page(self.systems, first, after, filter)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="A dry run of approval: every reason it would be refused, and every warning."
    )
    async def approval_check(self, info: Info) -> ScopeCheck:
        check = await info.context.loaders.scope_checks.load(self.scope_version_id)
        if check is None:
            raise NotFound("No such scope version in your organisation.")
        return ScopeCheck(
            approvable=check.approvable,
            reasons=[
                ScopeRefusalReason(code=r.code, message=r.message, system_id=r.system_id)
                for r in check.reasons
            ],
            warnings=[ScopeWarning.of(w) for w in check.warnings],
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[ScopeVersion | None]:
        return await resolve_nodes(
            info.context.loaders.scope_versions,
            node_ids,
            ScopeVersion.from_upstream,
            required,
            "scope version",
        )


@strawberry.type(name="ScopeVersionConnection", description="A page of scope versions.")
class ScopeVersionConnection(relay.Connection[ScopeVersion]):
    pass


# --- Diff -------------------------------------------------------------------------------------


@strawberry.type(name="ScopeBoundaryChange")
class ScopeBoundaryChange:
    name: str
    before: ScopeBoundary
    after: ScopeBoundary


@strawberry.type(name="ScopeBoundaryDiff")
class ScopeBoundaryDiff:
    added: list[ScopeBoundary]
    removed: list[ScopeBoundary]
    changed: list[ScopeBoundaryChange]

    @classmethod
    def of(cls, d: UpstreamBoundaryDiff) -> ScopeBoundaryDiff:
        return cls(
            added=[ScopeBoundary.of(b) for b in d.added],
            removed=[ScopeBoundary.of(b) for b in d.removed],
            changed=[
                ScopeBoundaryChange(
                    name=c.name, before=ScopeBoundary.of(c.before), after=ScopeBoundary.of(c.after)
                )
                for c in d.changed
            ],
        )


@strawberry.type(name="ScopeSystemChange")
class ScopeSystemChange:
    system_id: uuid.UUID
    before: ScopeSystem
    after: ScopeSystem


@strawberry.type(name="ScopeSystemChangeEdge")
class ScopeSystemChangeEdge:
    cursor: str
    node: ScopeSystemChange


@strawberry.type(name="ScopeSystemChangeConnection", description="A page of changed systems.")
class ScopeSystemChangeConnection:
    page_info: relay.PageInfo
    edges: list[ScopeSystemChangeEdge]
    total_count: int = strawberry.field(description="Items in the whole list, every page.")


_DIFF = " The diff is computed upstream in one call;" + _EMBEDDED


@strawberry.type(name="ScopeSystemsDiff")
class ScopeSystemsDiff:
    added: list[ScopeSystem] = strawberry.field(
        description="Listed in the second version only.",
        deprecation_reason="Use addedConnection: the register grows, this list has no paging.",
    )
    removed: list[ScopeSystem] = strawberry.field(
        description="Listed in the first version only.",
        deprecation_reason="Use removedConnection: the register grows, this list has no paging.",
    )
    changed: list[ScopeSystemChange] = strawberry.field(
        deprecation_reason="Use changedConnection: the register grows, this list has no paging."
    )
    now_included: list[uuid.UUID] = strawberry.field(
        description="In scope in the second version, not in the first."
    )
    now_excluded: list[uuid.UUID] = strawberry.field(
        description="In scope in the first version, not in the second."
    )

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="addedConnection",
        description="Systems listed in the second version only." + _DIFF,
    )
    def added_connection(
        self, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> ScopeSystemConnection:
        return scope_systems_page(self.added, first, after)

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="removedConnection",
        description="Systems listed in the first version only." + _DIFF,
    )
    def removed_connection(
        self, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> ScopeSystemConnection:
        return scope_systems_page(self.removed, first, after)

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="changedConnection",
        description="Systems listed in both versions whose inclusion or justification changed."
        + _DIFF,
    )
    def changed_connection(
        self, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> ScopeSystemChangeConnection:
        pairs, page_info = slice_page(self.changed, first, after, lambda c: c)
        return ScopeSystemChangeConnection(
            page_info=page_info,
            edges=[ScopeSystemChangeEdge(cursor=c, node=n) for c, n in pairs],
            total_count=len(self.changed),
        )


@strawberry.type(name="ScopeVersionRef")
class ScopeVersionRef:
    id: uuid.UUID
    number: int
    status: ScopeStatus


@strawberry.type(name="ScopeDiff", description="What changed from one scope version to another.")
class ScopeDiff:
    from_version: ScopeVersionRef
    to_version: ScopeVersionRef
    statement_changed: bool
    statement_before: str
    statement_after: str
    activities: ScopeBoundaryDiff
    locations: ScopeBoundaryDiff
    departments: ScopeBoundaryDiff
    systems: ScopeSystemsDiff


# --- Inputs and payloads ----------------------------------------------------------------------


@strawberry.input(name="ScopeVersionFilter", description="Which scope versions to list.")
class ScopeVersionFilter:
    status: ScopeStatus | None = strawberry.field(default=None, description="Only this status.")


@strawberry.input(name="ScopeBoundaryInput")
class ScopeBoundaryInput:
    name: str
    included: bool = True
    justification: str = strawberry.field(default="", description="Required when excluded.")


@strawberry.input(name="ScopeSystemInput")
class ScopeSystemInput:
    system_id: uuid.UUID = strawberry.field(description="The register's UUID of the system.")
    included: bool = True
    justification: str = strawberry.field(default="", description="Required when excluded.")


def _content(input: Any) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if input.statement is not None:
        body["statement"] = input.statement
    for name in ("activities", "locations", "departments"):
        if (items := getattr(input, name)) is not None:
            body[name] = [
                {"name": b.name, "included": b.included, "justification": b.justification}
                for b in items
            ]
    if input.systems is not None:
        body["systems"] = [
            {
                "system_id": str(s.system_id),
                "included": s.included,
                "justification": s.justification,
            }
            for s in input.systems
        ]
    return body


@strawberry.input(name="CreateScopeVersionInput", description="A new draft of the scope.")
class CreateScopeVersionInput:
    copy_from_current: bool = strawberry.field(
        default=False,
        description="Start from the current approved version; lists sent here replace its.",
    )
    statement: str | None = None
    activities: list[ScopeBoundaryInput] | None = None
    locations: list[ScopeBoundaryInput] | None = None
    departments: list[ScopeBoundaryInput] | None = None
    systems: list[ScopeSystemInput] | None = None
    idempotency_key: str | None = strawberry.field(
        default=None, description="Send the same key when retrying: the draft is created once."
    )


@strawberry.input(
    name="UpdateScopeVersionInput",
    description="Changes to a draft; each list sent replaces the whole list.",
)
class UpdateScopeVersionInput:
    id: strawberry.ID = strawberry.field(description="The ScopeVersion ID (or its UUID).")
    version: int = strawberry.field(description="The `version` you read (optimistic locking).")
    statement: str | None = None
    activities: list[ScopeBoundaryInput] | None = None
    locations: list[ScopeBoundaryInput] | None = None
    departments: list[ScopeBoundaryInput] | None = None
    systems: list[ScopeSystemInput] | None = None


@strawberry.input(name="ApproveScopeVersionInput")
class ApproveScopeVersionInput:
    id: strawberry.ID = strawberry.field(description="The ScopeVersion ID (or its UUID).")
    version: int | None = strawberry.field(
        default=None, description="The `version` you reviewed; approval fails if it changed."
    )


@strawberry.type(name="ScopeVersionPayload")
class ScopeVersionPayload:
    scope_version: ScopeVersion | None = strawberry.field(
        description="The draft; null when `errors` is not empty."
    )
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.type(
    name="ScopeApprovalRefusedError",
    description="The version cannot be approved; `reasons` lists every reason, not the first.",
)
class ScopeApprovalRefusedError(UserError):
    reasons: list[ScopeRefusalReason]


@strawberry.type(name="ApproveScopeVersionPayload")
class ApproveScopeVersionPayload:
    scope_version: ScopeVersion | None = strawberry.field(
        description="The approved, now current, version; null when `errors` is not empty."
    )
    warnings: list[ScopeWarning] = strawberry.field(
        description="In-scope systems depending on something outside the scope, with the path."
    )
    errors: list[UserError] = strawberry.field(
        description="Why it was not approved (a `ScopeApprovalRefusedError` lists every reason); "
        "empty on success."
    )


@strawberry.type
class ScopeQuery(ContextQuery):
    """Scope queries, and (through ``ContextQuery``) those of the organisation's context."""

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="scopeVersions",
        description=f"Every version of the scope, oldest first. `first` is at most "
        f"{MAX_PAGE_SIZE}.",
    )
    async def scope_versions(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: ScopeVersionFilter | None = None,
        status: Annotated[
            ScopeStatus | None, strawberry.argument(deprecation_reason="Use filter.status")
        ] = None,
    ) -> ScopeVersionConnection:
        check_page_size(first)
        status = merge_filter_argument(filter.status if filter else None, status, name="status")
        start = Position.decode(after)
        page = await info.context.clients.scope.list_versions(
            limit=start.skip + first,
            after=start.upstream,
            status=status.value if status else None,
        )
        edges, page_info = page_edges(
            page.items[start.skip :], page.next_cursor, start, after, ScopeVersion.from_upstream
        )
        return ScopeVersionConnection(edges=edges, page_info=page_info)

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="currentScope",
        description="The approved scope version; null until one is approved.",
    )
    async def current_scope(self, info: Info) -> ScopeVersion | None:
        current = await info.context.clients.scope.current()
        return ScopeVersion.from_upstream(current) if current is not None else None

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="scopeDiff",
        description="What changed from scope version `a` to `b` (IDs or UUIDs).",
    )
    async def scope_diff(self, info: Info, a: strawberry.ID, b: strawberry.ID) -> ScopeDiff:
        d = await info.context.clients.scope.diff(
            parse_node_id(a, "ScopeVersion"), parse_node_id(b, "ScopeVersion")
        )

        def ref(r: Any) -> ScopeVersionRef:
            return ScopeVersionRef(id=r.id, number=r.number, status=ScopeStatus(r.status))

        return ScopeDiff(
            from_version=ref(d.from_version),
            to_version=ref(d.to_version),
            statement_changed=d.statement_changed,
            statement_before=d.statement_before,
            statement_after=d.statement_after,
            activities=ScopeBoundaryDiff.of(d.activities),
            locations=ScopeBoundaryDiff.of(d.locations),
            departments=ScopeBoundaryDiff.of(d.departments),
            systems=ScopeSystemsDiff(
                added=[ScopeSystem.of(s) for s in d.systems.added],
                removed=[ScopeSystem.of(s) for s in d.systems.removed],
                changed=[
                    ScopeSystemChange(
                        system_id=c.system_id,
                        before=ScopeSystem.of(c.before),
                        after=ScopeSystem.of(c.after),
                    )
                    for c in d.systems.changed
                ],
                now_included=list(d.systems.now_included),
                now_excluded=list(d.systems.now_excluded),
            ),
        )


@strawberry.type
class ScopeMutation(ContextMutation):
    """Scope mutations, and (through ``ContextMutation``) those of the organisation's context."""

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="createScopeVersion",
        description="Start a new draft of the scope (roles: admin, manager, risk_owner, "
        "contributor). Every exclusion needs a justification.",
    )
    async def create_scope_version(
        self, info: Info, input: CreateScopeVersionInput
    ) -> ScopeVersionPayload:
        body = {"copy_from_current": input.copy_from_current, **_content(input)}
        created, errors = await attempt(
            info.context.clients.scope.create_version(body, idempotency_key=input.idempotency_key)
        )
        if created is None:
            return ScopeVersionPayload(scope_version=None, errors=errors)
        return ScopeVersionPayload(scope_version=ScopeVersion.from_upstream(created), errors=[])

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="updateScopeVersion",
        description="Change a draft (only drafts change; send the `version` you read).",
    )
    async def update_scope_version(
        self, info: Info, input: UpdateScopeVersionInput
    ) -> ScopeVersionPayload:
        updated, errors = await attempt(
            lambda: info.context.clients.scope.update_version(
                parse_node_id(input.id, "ScopeVersion"), _content(input), version=input.version
            ),
            kind="ScopeVersion",
            resource_id=input.id,
        )
        if updated is None:
            return ScopeVersionPayload(scope_version=None, errors=errors)
        return ScopeVersionPayload(scope_version=ScopeVersion.from_upstream(updated), errors=[])

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="approveScopeVersion",
        description="Approve a draft (roles: admin, manager): it becomes the current scope, the "
        "previous one is superseded and `scope.changed` is emitted. Refused with a "
        "`ScopeApprovalRefusedError` listing every reason.",
    )
    async def approve_scope_version(
        self, info: Info, input: ApproveScopeVersionInput
    ) -> ApproveScopeVersionPayload:
        result, errors = await attempt(
            lambda: info.context.clients.scope.approve(
                parse_node_id(input.id, "ScopeVersion"), version=input.version
            ),
            kind="ScopeVersion",
            resource_id=input.id,
        )
        if result is None:
            return ApproveScopeVersionPayload(scope_version=None, warnings=[], errors=errors)
        warnings = [ScopeWarning.of(w) for w in result.warnings]
        if result.refused is not None or result.scope_version is None:
            refusal = ScopeApprovalRefusedError(
                message=result.refused or "The scope cannot be approved.",
                code="scope-approval-refused",
                reasons=[
                    ScopeRefusalReason(code=r.code, message=r.message, system_id=r.system_id)
                    for r in result.reasons
                ],
            )
            return ApproveScopeVersionPayload(
                scope_version=None, warnings=warnings, errors=[refusal]
            )
        return ApproveScopeVersionPayload(
            scope_version=ScopeVersion.from_upstream(result.scope_version),
            warnings=warnings,
            errors=[],
        )
