"""The AI risk register: matrices, risks, the heat map, and per-system risk summaries."""

from __future__ import annotations

import enum
import inspect
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import date, datetime
from typing import Any

import strawberry
from strawberry import relay

from gateway.clients.risks import (
    UpstreamRisk,
    UpstreamRiskDashboard,
    UpstreamRiskMatrix,
    UpstreamRiskPolicy,
    UpstreamRiskSummary,
)
from gateway.loaders.system_risks import SystemRisksKey
from gateway.schema.context import Info
from gateway.schema.embedded_pages import slice_page
from gateway.schema.errors import UserError, attempt
from gateway.schema.ids import parse_node_id, uuid_or_none
from gateway.schema.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Position, check_page_size
from shared.errors import NotFound


@strawberry.enum(description="Where a risk stands.")
class RiskStatus(enum.Enum):
    OPEN = "open"
    TREATED = "treated"
    ACCEPTED = "accepted"
    CLOSED = "closed"
    REVIEW_DUE = "review_due"


@strawberry.enum(description="How a risk is treated (ISO/IEC 42001 6.1.3).")
class RiskTreatment(enum.Enum):
    MITIGATE = "mitigate"
    AVOID = "avoid"
    TRANSFER = "transfer"
    ACCEPT = "accept"


@strawberry.enum(description="Which scores the dashboard counts.")
class RiskBasis(enum.Enum):
    INHERENT = "inherent"
    RESIDUAL = "residual"


@strawberry.type(description="A version of the organisation's risk matrix; versions never change.")
class RiskMatrix:
    version: int
    preset: str | None
    likelihood_labels: list[str]
    severity_labels: list[str]
    levels: list[str] = strawberry.field(description="Level names, low → high.")
    cells: list[list[str]] = strawberry.field(
        description="cells[likelihood-1][severity-1] = the level of that cell."
    )
    tolerance: str = strawberry.field(description="The highest acceptable level.")
    created_at: datetime

    @classmethod
    def from_upstream(cls, m: UpstreamRiskMatrix) -> RiskMatrix:
        d = m.definition
        return cls(
            version=m.number,
            preset=m.preset,
            likelihood_labels=list(d.likelihood_labels),
            severity_labels=list(d.severity_labels),
            levels=list(d.levels),
            cells=[list(r) for r in d.cells],
            tolerance=d.tolerance,
            created_at=m.created_at,
        )


@strawberry.type(name="Risk", description="An entry of the AI risk register.")
class Risk(relay.Node):
    # The global id, computed once when the risk is built (``from_upstream``): a plain field
    # instead of ``Node``'s resolver, which went through Strawberry's whole resolver path for
    # every risk of a page (a fifth of a 100-risk page). Same field, type and value.
    _id: relay.GlobalID = strawberry.field(
        name="id", description="The Globally Unique ID of this object"
    )
    risk_id: relay.NodeID[uuid.UUID]
    version: int
    system_id: uuid.UUID | None = strawberry.field(description="Null: organisation-wide.")
    title: str
    description: str
    domain_id: str = strawberry.field(description="MIT AI Risk Repository domain (1–7).")
    subdomain_id: str
    entity: str
    intent: str
    timing: str
    affected_stakeholders: list[str]
    lifecycle_stage: str | None
    fundamental_rights: bool
    matrix_version: int
    likelihood: int
    severity: int
    inherent_level: str
    residual_likelihood: int | None
    residual_severity: int | None
    residual_level: str | None
    next_review_at: datetime | None
    treatment: RiskTreatment | None
    treatment_plan: str | None
    owner: str | None
    due_date: date | None
    control_ids: list[str]
    status: RiskStatus
    above_tolerance: bool
    missing_controls: bool
    accepted_by: str | None
    accepted_at: datetime | None
    acceptance_rationale: str | None
    updated_at: datetime

    @classmethod
    def from_upstream(cls, r: UpstreamRisk) -> Risk:
        """The risk as the register answered it.

        Filled without the dataclass ``__init__`` (33 keyword arguments; a page of 100 risks
        spent more time there than in validating the upstream answer): the values are the
        ones ``__init__`` would store, see :data:`_RISK_COPIED`.
        """
        upstream = r.__dict__
        risk = object.__new__(cls)
        values = risk.__dict__
        for name in _RISK_COPIED:
            values[name] = upstream[name]
        values["risk_id"] = r.id
        values["_id"] = relay.GlobalID("Risk", str(r.id))
        values["affected_stakeholders"] = list(r.affected_stakeholders)
        values["control_ids"] = list(r.control_ids)
        values["treatment"] = _TREATMENTS[r.treatment] if r.treatment else None
        values["status"] = _STATUSES[r.status]
        return risk

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Risk | None]:
        ids = [uuid_or_none(i) for i in node_ids]
        loader = info.context.loaders.risks
        found = await loader.load_many([i for i in ids if i is not None])
        by_id = {r.id: r for r in found if r is not None}
        nodes = [
            Risk.from_upstream(by_id[i]) if i is not None and i in by_id else None for i in ids
        ]
        if required and any(n is None for n in nodes):
            raise NotFound("No such risk in your organisation.")
        return nodes


_RISK_CONVERTED = frozenset(
    {"_id", "risk_id", "affected_stakeholders", "control_ids", "treatment", "status"}
)
# The fields of ``Risk`` that ``from_upstream`` copies from the upstream risk as they are: every
# field its ``__init__`` takes but the converted ones (an upstream field of the same name must
# exist for each, checked here, so that a field added to one side only fails at import).
_RISK_COPIED = tuple(
    name
    for name, parameter in inspect.signature(Risk.__init__).parameters.items()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY and name not in _RISK_CONVERTED
)
if missing := set(_RISK_COPIED) - set(UpstreamRisk.model_fields):  # pragma: no cover
    raise TypeError(f"Risk fields without an upstream value: {sorted(missing)}")
_STATUSES = {s.value: s for s in RiskStatus}
_TREATMENTS = {t.value: t for t in RiskTreatment}


def parse_risk_id(value: str) -> uuid.UUID:
    """A Risk's global ID, or the register's own UUID."""
    return parse_node_id(value, "Risk")


@strawberry.type(name="RiskConnection", description="A page of risks.")
class RiskConnection(relay.Connection[Risk]):
    known_total: strawberry.Private[int | None] = None

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="totalCount",
        description="How many risks of the system match (`AISystem.risks`); null for the "
        "register (`risks`).",
    )
    def total_count(self) -> int | None:
        return self.known_total


@strawberry.type(description="Risks of one AI system: how many are open, and the worst.")
class RiskSummary:
    open_count: int = strawberry.field(description="Risks of the system that are not closed.")
    highest_residual_level: str | None = strawberry.field(
        description="The highest residual level among them (inherent where none is scored)."
    )


def risk_summary_of(found: UpstreamRiskSummary) -> RiskSummary:
    """A system's summary as the page's batch (one upstream call per page) found it."""
    return RiskSummary(
        open_count=found.open_count, highest_residual_level=found.highest_residual_level
    )


@strawberry.type(description="Risks in one cell of the matrix.")
class RiskHeatMapCell:
    likelihood: int
    severity: int
    count: int


@strawberry.type
class RiskLevelCount:
    level: str
    count: int


@strawberry.type
class RiskDomainCount:
    domain_id: str
    count: int


@strawberry.type
class RiskSystemCount:
    system_id: uuid.UUID | None = strawberry.field(description="Null: organisation-wide risks.")
    count: int


@strawberry.type(name="RiskSystemCountEdge")
class RiskSystemCountEdge:
    cursor: str
    node: RiskSystemCount


@strawberry.type(name="RiskSystemCountConnection", description="A page of counts per system.")
class RiskSystemCountConnection:
    page_info: relay.PageInfo
    edges: list[RiskSystemCountEdge]
    total_count: int = strawberry.field(description="Items in the whole list, every page.")


@strawberry.type(description="Counts of the non-closed risks: the heat map and its breakdowns.")
class RiskDashboard:
    basis: RiskBasis
    matrix_version: int
    total: int
    heat_map: list[RiskHeatMapCell]
    levels: list[RiskLevelCount]
    domains: list[RiskDomainCount]
    systems: list[RiskSystemCount] = strawberry.field(
        deprecation_reason="Use systemsConnection: one count per system with open risks grows "
        "with the register, this list has no paging."
    )

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="systemsConnection",
        description="Non-closed risks per system, most first (then by system UUID; null, "
        "organisation-wide risks, among them). The counts come from the dashboard's one "
        "upstream aggregate; paged by the gateway over it (no extra upstream call per page).",
    )
    def systems_connection(
        self, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> RiskSystemCountConnection:
        pairs, page_info = slice_page(self.systems, first, after, lambda c: c)
        return RiskSystemCountConnection(
            page_info=page_info,
            edges=[RiskSystemCountEdge(cursor=c, node=n) for c, n in pairs],
            total_count=len(self.systems),
        )

    @classmethod
    def from_upstream(cls, d: UpstreamRiskDashboard) -> RiskDashboard:
        return cls(
            basis=RiskBasis(d.basis),
            matrix_version=d.matrix_version,
            total=d.total,
            heat_map=[
                RiskHeatMapCell(likelihood=c.likelihood, severity=c.severity, count=c.count)
                for c in d.cells
            ],
            levels=[RiskLevelCount(level=c.level, count=c.count) for c in d.levels],
            domains=[RiskDomainCount(domain_id=c.domain_id, count=c.count) for c in d.domains],
            systems=[RiskSystemCount(system_id=c.system_id, count=c.count) for c in d.systems],
        )


@strawberry.input(name="RiskFilter", description="Which risks to list; empty fields do not filter.")
class RiskFilter:
    system_ids: list[uuid.UUID] | None = None
    inherent_levels: list[str] | None = None
    residual_levels: list[str] | None = None
    domain_ids: list[str] | None = None
    statuses: list[RiskStatus] | None = None
    owner: str | None = None
    above_tolerance: bool | None = None
    review_overdue: bool | None = None

    def params(self) -> list[tuple[str, str | int]]:
        out: list[tuple[str, str | int]] = []
        out += [("system_id", str(i)) for i in self.system_ids or []]
        out += [("inherent_level", v) for v in self.inherent_levels or []]
        out += [("residual_level", v) for v in self.residual_levels or []]
        out += [("domain_id", v) for v in self.domain_ids or []]
        out += [("status", s.value) for s in self.statuses or []]
        if self.owner is not None:
            out.append(("owner", self.owner))
        if self.above_tolerance is not None:
            out.append(("above_tolerance", str(self.above_tolerance).lower()))
        if self.review_overdue is not None:
            out.append(("review_overdue", str(self.review_overdue).lower()))
        return out


@strawberry.input(
    name="SystemRiskFilter",
    description="Which of a system's risks to list; empty fields do not filter.",
)
class SystemRiskFilter:
    inherent_levels: list[str] | None = None
    residual_levels: list[str] | None = None
    domain_ids: list[str] | None = None
    statuses: list[RiskStatus] | None = None
    owner: str | None = None
    above_tolerance: bool | None = None
    review_overdue: bool | None = None

    def params(self) -> tuple[tuple[str, str | int], ...]:
        out: list[tuple[str, str | int]] = []
        out += [("inherent_level", v) for v in self.inherent_levels or []]
        out += [("residual_level", v) for v in self.residual_levels or []]
        out += [("domain_id", v) for v in self.domain_ids or []]
        out += [("status", s.value) for s in self.statuses or []]
        if self.owner is not None:
            out.append(("owner", self.owner))
        if self.above_tolerance is not None:
            out.append(("above_tolerance", str(self.above_tolerance).lower()))
        if self.review_overdue is not None:
            out.append(("review_overdue", str(self.review_overdue).lower()))
        return tuple(out)


def _page_info(
    edges: list[relay.Edge[Risk]], *, has_next: bool, after: str | None
) -> relay.PageInfo:
    return relay.PageInfo(
        has_next_page=has_next,
        has_previous_page=after is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )


async def risks_of_system(
    info: Info,
    system_id: uuid.UUID,
    first: int,
    after: str | None,
    filter: SystemRiskFilter | None,
) -> RiskConnection:
    """A system's risks, oldest first. The first page of every system on a page of systems
    comes from one batched upstream call (``/v1/risks-by-system``); later pages (``after``) page
    through ``/v1/risks?system_id=…`` in the same order."""
    check_page_size(first)
    params = filter.params() if filter else ()
    loader = info.context.loaders.risks
    if after is None:
        found = await info.context.loaders.system_risks.load(
            SystemRisksKey(system_id, first, params)
        )
        edges: list[relay.Edge[Risk]] = []
        for index, item in enumerate(found.items):
            loader.prime(item.id, item)
            # Resuming after the n-th risk re-reads the first page and skips n: one call.
            cursor = Position(skip=index + 1).encode()
            edges.append(relay.Edge(cursor=cursor, node=Risk.from_upstream(item)))
        return RiskConnection(
            edges=edges,
            page_info=_page_info(edges, has_next=found.total_count > len(edges), after=None),
            known_total=found.total_count,
        )
    start = Position.decode(after)
    page = await info.context.clients.risks.list_risks(
        limit=start.skip + first,
        after=start.upstream,
        filters=[("system_id", str(system_id)), *params],
    )
    edges = _edges(page.items[start.skip :], page.next_cursor, start)
    return RiskConnection(
        edges=edges, page_info=_page_info(edges, has_next=page.next_cursor is not None, after=after)
    )


def _edges(
    items: list[UpstreamRisk], next_cursor: str | None, start: Position
) -> list[relay.Edge[Risk]]:
    edges: list[relay.Edge[Risk]] = []
    for index, item in enumerate(items):
        is_last = index == len(items) - 1
        position = (
            Position(upstream=next_cursor)
            if is_last and next_cursor
            else Position(upstream=start.upstream, skip=start.skip + index + 1)
        )
        edges.append(relay.Edge(cursor=position.encode(), node=Risk.from_upstream(item)))
    return edges


@strawberry.type(
    name="RiskPolicy",
    description="The organisation's risk policy settings. These are organisation policy, not "
    "legal requirements (`basis` is always `policy`).",
)
class RiskPolicy:
    require_impact_assessment_for_all_high_risk: bool = strawberry.field(
        description="Policy, not law: every high-risk AI system needs a full impact assessment, "
        "beyond the deployers Art. 27 of Regulation (EU) 2024/1689 names."
    )
    allow_self_acceptance: bool = strawberry.field(
        description="Policy: whoever created or owns a risk may also accept it. When false (the "
        "default), acceptance needs someone else (separation of duties)."
    )
    basis: str = strawberry.field(description="Always `policy`.")
    version: int = strawberry.field(description="0 until first set (the defaults).")
    updated_at: datetime | None
    updated_by: str | None

    @classmethod
    def from_upstream(cls, p: UpstreamRiskPolicy) -> RiskPolicy:
        return cls(
            require_impact_assessment_for_all_high_risk=p.require_impact_assessment_for_all_high_risk,
            allow_self_acceptance=p.allow_self_acceptance,
            basis=p.basis,
            version=p.version,
            updated_at=p.updated_at,
            updated_by=p.updated_by,
        )


@strawberry.input(
    name="SetRiskPolicyInput",
    description="The whole risk policy; settings left out become false.",
)
class SetRiskPolicyInput:
    version: int = strawberry.field(
        description="The version you read (optimistic locking); 0 before it was first set."
    )
    require_impact_assessment_for_all_high_risk: bool = False
    allow_self_acceptance: bool = False


@strawberry.type(name="RiskPolicyPayload")
class RiskPolicyPayload:
    risk_policy: RiskPolicy | None = strawberry.field(
        description="Null when `errors` is not empty."
    )
    errors: list[UserError]


@strawberry.input(name="CreateRiskInput", description="A new risk for the register.")
class CreateRiskInput:
    title: str
    domain_id: str
    subdomain_id: str
    entity: str = strawberry.field(description="human, ai or other.")
    intent: str = strawberry.field(description="intentional, unintentional or other.")
    timing: str = strawberry.field(description="pre_deployment, post_deployment or other.")
    likelihood: int
    severity: int
    system_id: uuid.UUID | None = None
    description: str = ""
    affected_stakeholders: list[str] = strawberry.field(default_factory=list)
    lifecycle_stage: str | None = None
    fundamental_rights: bool = False
    treatment: RiskTreatment | None = None
    treatment_plan: str | None = None
    owner: str | None = None
    due_date: date | None = None
    control_ids: list[str] = strawberry.field(default_factory=list)
    residual_likelihood: int | None = None
    residual_severity: int | None = None
    idempotency_key: str | None = strawberry.field(
        default=None, description="Send the same key when retrying: the risk is created once."
    )


@strawberry.input(name="AssessRiskInput", description="New scores for a risk (current matrix).")
class AssessRiskInput:
    id: strawberry.ID
    version: int = strawberry.field(description="The version you read (optimistic locking).")
    likelihood: int | None = None
    severity: int | None = None
    residual_likelihood: int | None = None
    residual_severity: int | None = None


@strawberry.input(name="AcceptRiskInput", description="Accept a risk's residual level.")
class AcceptRiskInput:
    id: strawberry.ID
    version: int
    rationale: str = strawberry.field(description="Why the residual risk is acceptable (≥ 20).")


@strawberry.type(name="RiskPayload")
class RiskPayload:
    risk: Risk | None = strawberry.field(description="Null when `errors` is not empty.")
    errors: list[UserError]


async def _payload(
    call: Callable[[], Awaitable[UpstreamRisk]], *, risk_id: str | None = None
) -> RiskPayload:
    found, errors = await attempt(
        call, kind="Risk" if risk_id is not None else None, resource_id=risk_id
    )
    if found is None:
        return RiskPayload(risk=None, errors=errors)
    return RiskPayload(risk=Risk.from_upstream(found), errors=[])


@strawberry.type
class RiskQuery:
    @strawberry.field(  # type: ignore[untyped-decorator]
        description=f"The risk register, oldest first. `first` is at most {MAX_PAGE_SIZE}."
    )
    async def risks(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: RiskFilter | None = None,
    ) -> RiskConnection:
        check_page_size(first)
        start = Position.decode(after)
        page = await info.context.clients.risks.list_risks(
            limit=start.skip + first,
            after=start.upstream,
            filters=filter.params() if filter else [],
        )
        items = page.items[start.skip :]
        # One call for the page (the first of an id wins, as one ``prime`` per item would).
        info.context.loaders.risks.prime_many({item.id: item for item in reversed(items)})
        edges: list[relay.Edge[Risk]] = []
        for index, item in enumerate(items):
            is_last = index == len(items) - 1
            position = (
                Position(upstream=page.next_cursor)
                if is_last and page.next_cursor
                else Position(upstream=start.upstream, skip=start.skip + index + 1)
            )
            edges.append(relay.Edge(cursor=position.encode(), node=Risk.from_upstream(item)))
        return RiskConnection(
            edges=edges,
            page_info=relay.PageInfo(
                has_next_page=page.next_cursor is not None,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="riskPolicy",
        description="The organisation's risk policy settings (defaults until first set).",
    )
    async def risk_policy(self, info: Info) -> RiskPolicy:
        return RiskPolicy.from_upstream(await info.context.clients.risks.risk_policy())

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="riskMatrix", description="The organisation's current risk matrix."
    )
    async def risk_matrix(self, info: Info) -> RiskMatrix:
        return RiskMatrix.from_upstream(await info.context.clients.risks.matrix())

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="riskDashboard", description="The heat map and counts of the non-closed risks."
    )
    async def risk_dashboard(
        self, info: Info, basis: RiskBasis = RiskBasis.RESIDUAL
    ) -> RiskDashboard:
        client = info.context.clients.risks
        return RiskDashboard.from_upstream(await client.dashboard(basis.value))


@strawberry.type
class RiskMutation:
    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="createRisk",
        description="Add a risk to the register (roles: admin, manager, risk_owner, contributor).",
    )
    async def create_risk(self, info: Info, input: CreateRiskInput) -> RiskPayload:
        body: dict[str, Any] = {
            "system_id": str(input.system_id) if input.system_id else None,
            "title": input.title,
            "description": input.description,
            "domain_id": input.domain_id,
            "subdomain_id": input.subdomain_id,
            "entity": input.entity,
            "intent": input.intent,
            "timing": input.timing,
            "affected_stakeholders": list(input.affected_stakeholders),
            "lifecycle_stage": input.lifecycle_stage,
            "fundamental_rights": input.fundamental_rights,
            "treatment": input.treatment.value if input.treatment else None,
            "treatment_plan": input.treatment_plan,
            "owner": input.owner,
            "due_date": input.due_date.isoformat() if input.due_date else None,
            "control_ids": list(input.control_ids),
            "likelihood": input.likelihood,
            "severity": input.severity,
            "residual_likelihood": input.residual_likelihood,
            "residual_severity": input.residual_severity,
        }
        client = info.context.clients.risks
        return await _payload(
            lambda: client.create_risk(body, idempotency_key=input.idempotency_key)
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="assessRisk", description="Re-score a risk on the current matrix."
    )
    async def assess_risk(self, info: Info, input: AssessRiskInput) -> RiskPayload:
        fields = ("likelihood", "severity", "residual_likelihood", "residual_severity")
        body = {f: getattr(input, f) for f in fields if getattr(input, f) is not None}
        client = info.context.clients.risks
        return await _payload(
            lambda: client.assess_risk(parse_risk_id(input.id), body, version=input.version),
            risk_id=input.id,
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="acceptRisk", description="Accept a risk's residual level (roles: admin, manager)."
    )
    async def accept_risk(self, info: Info, input: AcceptRiskInput) -> RiskPayload:
        client = info.context.clients.risks
        return await _payload(
            lambda: client.accept_risk(
                parse_risk_id(input.id), input.rationale, version=input.version
            ),
            risk_id=input.id,
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="setRiskPolicy",
        description="Set the organisation's risk policy (roles: admin, manager).",
    )
    async def set_risk_policy(self, info: Info, input: SetRiskPolicyInput) -> RiskPolicyPayload:
        body = {
            "require_impact_assessment_for_all_high_risk": (
                input.require_impact_assessment_for_all_high_risk
            ),
            "allow_self_acceptance": input.allow_self_acceptance,
        }
        client = info.context.clients.risks
        found, errors = await attempt(client.put_risk_policy(body, version=input.version))
        if found is None:
            return RiskPolicyPayload(risk_policy=None, errors=errors)
        return RiskPolicyPayload(risk_policy=RiskPolicy.from_upstream(found), errors=[])
