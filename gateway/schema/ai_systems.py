"""AI systems: the register (inventory) with what risk and evidence know of each system."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from gateway.clients.schemas import (
    EvidenceSystem,
    InventoryCompletenessPage,
    InventorySystem,
    InventorySystemChange,
    InventorySystemGaps,
    RiskSystem,
    UpstreamPage,
)
from gateway.loaders.base import prefetch, settled
from gateway.loaders.selection import (
    selected_node_fields,
    selected_node_subfields,
    selected_subfields,
)
from gateway.schema.context import Info
from gateway.schema.errors import UserError, attempt
from gateway.schema.ids import parse_node_id, uuid_or_none
from gateway.schema.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Position, check_page_size
from gateway.schema.scalars import BigInt
from shared.errors import NotFound

if TYPE_CHECKING:
    from gateway.schema.classification import Classification
    from gateway.schema.components import ComponentConnection
    from gateway.schema.custom_fields import CustomFieldConnection
    from gateway.schema.documented import EvidenceCoverage
    from gateway.schema.evidence import EvidenceConnection
    from gateway.schema.risks import RiskConnection, RiskSummary, SystemRiskFilter

E = TypeVar("E", bound=enum.Enum)
U = TypeVar("U")
R = TypeVar("R")


@strawberry.enum(description="Where an AI system is in its life cycle.")
class LifecycleStage(enum.Enum):
    IDEA = "idea"
    DESIGN = "design"
    DEVELOPMENT = "development"
    VALIDATION = "validation"
    DEPLOYED = "deployed"
    RETIRED = "retired"


@strawberry.enum(description="Who built the system.")
class Provenance(enum.Enum):
    IN_HOUSE = "in_house"
    THIRD_PARTY = "third_party"
    HYBRID = "hybrid"


@strawberry.enum(description="Deployment context; all but GENERAL are sensitive sectors.")
class Sector(enum.Enum):
    HIRING_EMPLOYMENT = "hiring_employment"
    CREDIT_FINANCE = "credit_finance"
    INSURANCE = "insurance"
    HEALTHCARE = "healthcare"
    EDUCATION = "education"
    LAW_ENFORCEMENT = "law_enforcement"
    MIGRATION_BORDER = "migration_border"
    JUSTICE_DEMOCRACY = "justice_democracy"
    CRITICAL_INFRASTRUCTURE = "critical_infrastructure"
    BIOMETRICS = "biometrics"
    ESSENTIAL_SERVICES = "essential_services"
    GENERAL = "general"


@strawberry.enum(description="The organisation's roles for a system (ISO/IEC 42001).")
class AIRole(enum.Enum):
    PRODUCER = "producer"
    PROVIDER = "provider"
    CUSTOMER = "customer"
    PARTNER = "partner"


@strawberry.enum(name="EUAIActTier", description="EU AI Act risk tier.")
class EUAIActTier(enum.Enum):
    PROHIBITED = "prohibited"
    HIGH = "high"
    LIMITED = "limited"
    MINIMAL = "minimal"


@strawberry.enum(name="AISystemSort", description="Orders of `aiSystems`; `_DESC` descends.")
class AISystemSort(enum.Enum):
    NAME = "name"
    NAME_DESC = "-name"
    CREATED_AT = "created_at"
    CREATED_AT_DESC = "-created_at"
    UPDATED_AT = "updated_at"
    UPDATED_AT_DESC = "-updated_at"
    NEXT_REVIEW_AT = "next_review_at"
    NEXT_REVIEW_AT_DESC = "-next_review_at"


@strawberry.enum(description="What an auditor will ask for that a system lacks.")
class CompletenessItem(enum.Enum):
    OWNER = "owner"
    NEXT_REVIEW_AT = "next_review_at"
    INTENDED_PURPOSE = "intended_purpose"
    DATA_INPUTS = "data_inputs"
    SECTOR = "sector"
    AI_ROLES = "ai_roles"


@strawberry.type(description="A category of data a system processes.")
class DataInput:
    category: str
    personal: bool
    special_category: bool = strawberry.field(
        description="Special-category (GDPR art. 9) data; always personal too."
    )


@strawberry.input(name="DataInputInput", description="A category of data a system processes.")
class DataInputInput:
    category: str
    personal: bool = False
    special_category: bool = False


def _enum_or_none(kind: type[E], value: str | None) -> E | None:
    return kind(value) if value is not None else None


@strawberry.type(description="An AI system as the risk service holds it.")
class RiskSystemView:
    source_version: int = strawberry.field(
        description="The register version of the system this view reflects."
    )
    synced_at: datetime = strawberry.field(description="When the risk service last synced it.")


@strawberry.type(description="The evidence recorded for an AI system.")
class EvidenceSummary:
    file_count: int = strawberry.field(description="Evidence files recorded for the system.")
    total_bytes: BigInt = strawberry.field(description="Sum of the sizes of those files.")
    source_version: int = strawberry.field(
        description="The register version of the system the evidence service reflects."
    )


def _risk_view(view: RiskSystem | None) -> RiskSystemView | None:
    if view is None:
        return None
    return RiskSystemView(source_version=view.source_version, synced_at=view.synced_at)


def _evidence_summary(summary: EvidenceSystem | None) -> EvidenceSummary | None:
    if summary is None:
        return None
    return EvidenceSummary(
        file_count=summary.file_count,
        total_bytes=BigInt(summary.total_bytes),
        source_version=summary.source_version,
    )


def _later(convert: Callable[[U], R], pending: Awaitable[U]) -> R:
    """``convert`` of a DataLoader value not loaded yet, as an awaitable.

    The per-system fields below are plain (sync) resolvers: when the page's list resolver has
    prefetched their batches (:func:`_prefetch_page`), they answer from the loader at once and
    graphql-core completes them without a Task each. Elsewhere (``aiSystem``, ``node``, a
    system nested under another type) they return this awaitable, which graphql-core awaits
    like an async resolver's result; the static type is the field's, for Strawberry's schema.
    """

    async def later() -> R:
        return convert(await pending)

    return cast("R", later())


# The per-system fields served from a batch, and the loader each is batched by.
_PREFETCHED = {
    "classification": "classifications",
    "riskSummary": "risk_summaries",
    "evidenceSummary": "evidence_systems",
    "riskView": "risk_systems",
}


async def _prefetch_page(info: Info, system_ids: list[uuid.UUID]) -> None:
    """Load the batches the selected per-system fields of a page will read, concurrently.

    The same upstream calls the fields' own loads would make (one per loader and page), made
    before the page is returned so that its fields resolve synchronously.
    """
    if not system_ids:
        return
    from gateway.schema.classification import SUMMARY_FIELDS

    wanted = selected_node_fields(info, set(_PREFETCHED))
    loaders = info.context.loaders
    names = [_PREFETCHED[name] for name in wanted]
    if "classification" in wanted and selected_node_subfields(info, "classification").issubset(
        SUMMARY_FIELDS
    ):
        # Only what a summary has: the summary batch (a few hundred bytes a system instead of
        # several KB of obligations, reasons and answers to serialise and parse).
        names[names.index("classifications")] = "classification_summaries"
    await prefetch(*((getattr(loaders, name), system_ids) for name in names))


def _summary_suffices(info: Info) -> bool:
    """Whether this ``classification`` field selects only what a summary has (remembered per
    request by its syntax node: every system of a page asks the same)."""
    from gateway.schema.classification import SUMMARY_FIELDS

    known = info.context.loaders.classification_summaries.sufficient
    key = id(info._raw_info.field_nodes[0])
    found = known.get(key)
    if found is None:
        found = known[key] = selected_subfields(info).issubset(SUMMARY_FIELDS)
    return found


@strawberry.type(name="AISystem", description="An AI system in the organisation's register.")
class AISystem(relay.Node):
    system_id: relay.NodeID[uuid.UUID]
    name: str
    description: str
    intended_purpose: str | None
    owner: str | None
    business_function: str | None
    lifecycle_stage: LifecycleStage
    provenance: Provenance | None
    vendor_id: uuid.UUID | None = strawberry.field(description="The vendor's register id.")
    data_inputs: list[DataInput]
    sector: Sector | None
    affected_stakeholders: list[str]
    human_oversight: str | None
    ai_roles: list[AIRole] = strawberry.field(
        description="The organisation's roles for this system; several may hold at once."
    )
    next_review_at: date | None = strawberry.field(description="Scheduled review date.")
    last_reviewed_at: date | None = strawberry.field(
        description="When the system was last reviewed (never in the future)."
    )
    custom_fields: JSON = strawberry.field(
        description="Values of the organisation's custom fields, by key."
    )
    in_scope: bool | None = strawberry.field(
        description="Whether the approved AIMS scope includes the system; null before any."
    )
    eu_ai_act_tier: EUAIActTier | None = strawberry.field(
        name="euAiActTier", description="Mirrored from the risk service's classification."
    )
    risk_level: str | None = strawberry.field(
        description="Mirrored from the risk service's classification."
    )
    version: int = strawberry.field(description="Increases by one on every change.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_upstream(cls, system: InventorySystem) -> AISystem:
        return cls(
            system_id=system.id,
            name=system.name,
            description=system.description,
            intended_purpose=system.intended_purpose,
            owner=system.owner,
            business_function=system.business_function,
            lifecycle_stage=LifecycleStage(system.lifecycle_stage),
            provenance=_enum_or_none(Provenance, system.provenance),
            vendor_id=system.vendor_id,
            data_inputs=[
                DataInput(
                    category=d.category, personal=d.personal, special_category=d.special_category
                )
                for d in system.data_inputs
            ],
            sector=_enum_or_none(Sector, system.sector),
            affected_stakeholders=list(system.affected_stakeholders),
            human_oversight=system.human_oversight,
            ai_roles=[AIRole(r) for r in system.ai_roles],
            next_review_at=system.next_review_at,
            last_reviewed_at=system.last_reviewed_at,
            custom_fields=JSON(dict(system.custom_fields)),
            in_scope=system.in_scope,
            eu_ai_act_tier=_enum_or_none(EUAIActTier, system.eu_ai_act_tier),
            risk_level=system.risk_level,
            version=system.version,
            created_at=system.created_at,
            updated_at=system.updated_at,
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="The risk service's view of this system; null until it has been synced."
    )
    def risk_view(self, info: Info) -> RiskSystemView | None:
        loader = info.context.loaders.risk_systems
        if (loaded := settled(loader, self.system_id)) is not None:
            return _risk_view(loaded.result())
        return _later(_risk_view, loader.load(self.system_id))

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="The current EU AI Act classification (risk service); null until classified."
    )
    def classification(
        self, info: Info
    ) -> Annotated[Classification, strawberry.lazy("gateway.schema.classification")] | None:
        from gateway.schema.classification import classification_of, classification_of_summary

        loader = info.context.loaders.classifications
        if (loaded := settled(loader, self.system_id)) is not None:
            return classification_of(loaded.result())
        if _summary_suffices(info):
            summaries = info.context.loaders.classification_summaries
            if (summary := settled(summaries, self.system_id)) is not None:
                return classification_of_summary(summary.result())
            return _later(classification_of_summary, summaries.load(self.system_id))
        return _later(classification_of, loader.load(self.system_id))

    @strawberry.field(  # type: ignore[untyped-decorator]
        description=f"The system's components (inventory), oldest first. `first` is at most "
        f"{MAX_PAGE_SIZE}."
    )
    async def components(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Annotated[ComponentConnection, strawberry.lazy("gateway.schema.components")]:
        from gateway.schema.components import components_of_system

        return await components_of_system(info, self.system_id, first, after)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description=f"The system's risks in the register, oldest first; the first page of every "
        f"system on a page costs one upstream call together. `first` is at most "
        f"{MAX_PAGE_SIZE}."
    )
    async def risks(
        self,
        info: Info,
        first: int = 10,
        after: str | None = None,
        filter: Annotated[SystemRiskFilter, strawberry.lazy("gateway.schema.risks")] | None = None,
    ) -> Annotated[RiskConnection, strawberry.lazy("gateway.schema.risks")] | None:
        from gateway.schema.risks import risks_of_system

        return await risks_of_system(info, self.system_id, first, after, filter)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Open risks of this system and the highest residual level (risk register)."
    )
    def risk_summary(
        self, info: Info
    ) -> Annotated[RiskSummary, strawberry.lazy("gateway.schema.risks")] | None:
        from gateway.schema.risks import risk_summary_of

        loader = info.context.loaders.risk_summaries
        if (loaded := settled(loader, self.system_id)) is not None:
            return risk_summary_of(loaded.result())
        return _later(risk_summary_of, loader.load(self.system_id))

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Evidence recorded for this system; null until the evidence service knows it."
    )
    def evidence_summary(self, info: Info) -> EvidenceSummary | None:
        loader = info.context.loaders.evidence_systems
        if (loaded := settled(loader, self.system_id)) is not None:
            return _evidence_summary(loaded.result())
        return _later(_evidence_summary, loader.load(self.system_id))

    @strawberry.field(  # type: ignore[untyped-decorator]
        description=f"Evidence items linked to this system, oldest first; the first page of "
        f"every system on a page costs one upstream call together. `first` is at most "
        f"{MAX_PAGE_SIZE}."
    )
    async def evidence(
        self, info: Info, first: int = 10, after: str | None = None
    ) -> Annotated[EvidenceConnection, strawberry.lazy("gateway.schema.evidence")] | None:
        from gateway.schema.evidence import evidence_of_target

        return await evidence_of_target(info, "system", str(self.system_id), first, after)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="System items of documented information (evidence service): how many are "
        "required of this system and their statuses (batched across the page)."
    )
    async def evidence_coverage(
        self, info: Info
    ) -> Annotated[EvidenceCoverage, strawberry.lazy("gateway.schema.documented")] | None:
        from gateway.schema.documented import load_evidence_coverage

        return await load_evidence_coverage(info, self.system_id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[AISystem | None]:
        ids = [uuid_or_none(i) for i in node_ids]
        loader = info.context.loaders.inventory_systems
        found = await loader.load_many([i for i in ids if i is not None])
        by_id = {s.id: s for s in found if s is not None}
        nodes = [
            AISystem.from_upstream(by_id[i]) if i is not None and i in by_id else None for i in ids
        ]
        if required and any(n is None for n in nodes):
            raise NotFound("No such AI system in your organisation.")
        return nodes


@strawberry.type(name="AISystemConnection", description="A page of AI systems.")
class AISystemConnection(relay.Connection[AISystem]):
    pass


@strawberry.input(name="CustomFieldFilter", description="A custom field's value to match.")
class CustomFieldFilter:
    key: str
    value: str


@strawberry.input(name="AISystemFilter", description="Which AI systems to list.")
class AISystemFilter:
    name_contains: str | None = strawberry.field(
        default=None, description="Case-insensitive part of the name."
    )
    query: str | None = strawberry.field(
        default=None,
        description="Full-text search over name, description and intended purpose.",
    )
    lifecycle_stage: LifecycleStage | None = None
    role: AIRole | None = strawberry.field(
        default=None, description="Systems where the organisation holds this role."
    )
    owner: str | None = strawberry.field(default=None, description="Exact owner.")
    sector: Sector | None = None
    in_scope: bool | None = None
    tier: EUAIActTier | None = None
    review_overdue: bool | None = strawberry.field(
        default=None, description="Review date passed (true) or not (false)."
    )
    vendor_id: uuid.UUID | None = strawberry.field(
        default=None, description="Systems of this vendor."
    )
    business_function: str | None = strawberry.field(
        default=None, description="This business function (case-insensitive)."
    )
    custom_fields: list[CustomFieldFilter] | None = strawberry.field(
        default=None, description="Custom field values; all must match (keys as in `customFields`)."
    )

    def params(self) -> dict[str, str | bool | None]:
        """The REST query parameters of this filter (``cf.<key>`` for custom fields)."""
        return {
            "vendor_id": str(self.vendor_id) if self.vendor_id else None,
            "business_function": self.business_function,
            **{f"cf.{c.key}": c.value for c in self.custom_fields or []},
            "q": self.query,
            "lifecycle_stage": self.lifecycle_stage.value if self.lifecycle_stage else None,
            "role": self.role.value if self.role else None,
            "owner": self.owner,
            "sector": self.sector.value if self.sector else None,
            "in_scope": self.in_scope,
            "tier": self.tier.value if self.tier else None,
            "review_overdue": self.review_overdue,
        }


@strawberry.input(name="RegisterAISystemInput", description="A new AI system for the register.")
class RegisterAISystemInput:
    name: str
    description: str = ""
    owner: str | None = None
    business_function: str | None = None
    lifecycle_stage: LifecycleStage = LifecycleStage.IDEA
    intended_purpose: str | None = None
    provenance: Provenance | None = None
    vendor_id: uuid.UUID | None = None
    data_inputs: list[DataInputInput] = strawberry.field(default_factory=list)
    sector: Sector | None = None
    affected_stakeholders: list[str] = strawberry.field(default_factory=list)
    human_oversight: str | None = None
    ai_roles: list[AIRole] = strawberry.field(default_factory=list)
    next_review_at: date | None = None
    last_reviewed_at: date | None = strawberry.field(
        default=None, description="When the system was last reviewed (not in the future)."
    )
    custom_fields: JSON | None = None
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Send the same key when retrying: the system is registered once and the "
        "first result returned.",
    )


@strawberry.type(name="RegisterAISystemPayload")
class RegisterAISystemPayload:
    ai_system: AISystem | None = strawberry.field(
        description="The registered system; null when `errors` is not empty."
    )
    errors: list[UserError] = strawberry.field(
        description="Why nothing was registered; empty on success."
    )


@strawberry.input(
    name="UpdateAISystemInput",
    description="A change to an AI system: only the fields given change; null clears an "
    "optional field. `customFields` merges into the current values (a key set to null is "
    "removed).",
)
class UpdateAISystemInput:
    id: strawberry.ID = strawberry.field(description="The system's ID (or register UUID).")
    expected_version: int = strawberry.field(
        description="The version you read; a newer one on the server gives a ConflictError."
    )
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    intended_purpose: str | None = strawberry.UNSET
    owner: str | None = strawberry.UNSET
    business_function: str | None = strawberry.UNSET
    lifecycle_stage: LifecycleStage | None = strawberry.UNSET
    provenance: Provenance | None = strawberry.UNSET
    vendor_id: uuid.UUID | None = strawberry.UNSET
    data_inputs: list[DataInputInput] | None = strawberry.UNSET
    sector: Sector | None = strawberry.UNSET
    affected_stakeholders: list[str] | None = strawberry.UNSET
    human_oversight: str | None = strawberry.UNSET
    ai_roles: list[AIRole] | None = strawberry.UNSET
    next_review_at: date | None = strawberry.UNSET
    last_reviewed_at: date | None = strawberry.UNSET
    custom_fields: JSON | None = strawberry.UNSET


@strawberry.type(name="UpdateAISystemPayload")
class UpdateAISystemPayload:
    ai_system: AISystem | None = strawberry.field(
        description="The system after the change; null when `errors` is not empty."
    )
    errors: list[UserError] = strawberry.field(
        description="Why nothing changed (ConflictError: someone changed it since you read it)."
    )


def _rest_value(value: Any) -> Any:
    """A GraphQL input value as the inventory's REST body takes it."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, DataInputInput):
        return {
            "category": value.category,
            "personal": value.personal,
            "special_category": value.special_category,
        }
    if isinstance(value, list):
        return [_rest_value(v) for v in value]
    return value


REGISTER_FIELDS = (
    "name",
    "description",
    "owner",
    "business_function",
    "lifecycle_stage",
    "intended_purpose",
    "provenance",
    "vendor_id",
    "data_inputs",
    "sector",
    "affected_stakeholders",
    "human_oversight",
    "ai_roles",
    "next_review_at",
    "last_reviewed_at",
)
UPDATE_FIELDS = (*REGISTER_FIELDS, "custom_fields")


@strawberry.type(name="AISystemFieldChange", description="One field's value before and after.")
class AISystemFieldChange:
    field: str = strawberry.field(description="The field, as the REST API names it.")
    from_: JSON | None = strawberry.field(name="from")
    to: JSON | None


@strawberry.type(name="AISystemChange", description="One version of an AI system.")
class AISystemChange:
    version: int
    changed_by: str = strawberry.field(description="Who made the change (user or API key).")
    changed_at: datetime
    changes: list[AISystemFieldChange]

    @classmethod
    def from_upstream(cls, change: InventorySystemChange) -> AISystemChange:
        return cls(
            version=change.version,
            changed_by=change.changed_by,
            changed_at=change.changed_at,
            changes=[
                AISystemFieldChange(field=name, from_=diff.get("from"), to=diff.get("to"))
                for name, diff in sorted(change.changes.items())
            ],
        )


@strawberry.type(name="AISystemChangeEdge")
class AISystemChangeEdge:
    cursor: str
    node: AISystemChange


@strawberry.type(name="AISystemChangeConnection", description="Changes, newest first.")
class AISystemChangeConnection:
    page_info: relay.PageInfo
    edges: list[AISystemChangeEdge]


@strawberry.type(name="AISystemGaps", description="What one system lacks for an auditor.")
class AISystemGaps:
    system_id: uuid.UUID
    name: str
    owner: str | None
    missing: list[CompletenessItem]
    review_overdue: bool
    next_review_at: date | None

    @classmethod
    def from_upstream(cls, gaps: InventorySystemGaps) -> AISystemGaps:
        return cls(
            system_id=gaps.id,
            name=gaps.name,
            owner=gaps.owner,
            missing=[CompletenessItem(m) for m in gaps.missing],
            review_overdue=gaps.review_overdue,
            next_review_at=gaps.next_review_at,
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="The system itself (batched with the rest of the page)."
    )
    async def ai_system(self, info: Info) -> AISystem | None:
        system = await info.context.loaders.inventory_systems.load(self.system_id)
        return AISystem.from_upstream(system) if system is not None else None


@strawberry.type(
    name="AISystemCompletenessCounts",
    description="Counts over the live (not retired) systems of the register.",
)
class AISystemCompletenessCounts:
    systems: int
    with_gaps: int
    owner: int
    next_review_at: int
    intended_purpose: int
    data_inputs: int
    sector: int
    ai_roles: int
    review_overdue: int


@strawberry.type(name="AISystemGapsEdge")
class AISystemGapsEdge:
    cursor: str
    node: AISystemGaps


@strawberry.type(
    name="AISystemsCompleteness",
    description="Systems missing what an auditor asks for, or past their review date.",
)
class AISystemsCompleteness:
    counts: AISystemCompletenessCounts
    page_info: relay.PageInfo
    edges: list[AISystemGapsEdge]


T = TypeVar("T")


def _page_edges(
    page: UpstreamPage[T] | InventoryCompletenessPage, start: Position, after: str | None
) -> tuple[list[tuple[str, Any]], relay.PageInfo]:
    """(cursor, upstream item) of a page read from ``start``, and its Relay page info."""
    items = list(page.items)[start.skip :]
    out: list[tuple[str, Any]] = []
    for index, item in enumerate(items):
        is_last = index == len(items) - 1
        position = (
            Position(upstream=page.next_cursor)
            if is_last and page.next_cursor
            else Position(upstream=start.upstream, skip=start.skip + index + 1)
        )
        out.append((position.encode(), item))
    info = relay.PageInfo(
        has_next_page=page.next_cursor is not None,
        has_previous_page=after is not None,
        start_cursor=out[0][0] if out else None,
        end_cursor=out[-1][0] if out else None,
    )
    return out, info


def parse_ai_system_id(value: str) -> uuid.UUID:
    """An AISystem's global ID, or the register's own UUID (which REST clients already hold)."""
    return parse_node_id(value, "AISystem")


@strawberry.type
class AISystemQuery:
    @strawberry.field(  # type: ignore[untyped-decorator]
        name="customFields",
        description=f"The organisation's custom fields of the register (what a registration "
        f"form shows), in key order. `first` is at most {MAX_PAGE_SIZE}.",
    )
    async def custom_fields(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Annotated[CustomFieldConnection, strawberry.lazy("gateway.schema.custom_fields")]:
        from gateway.schema.custom_fields import custom_fields

        return await custom_fields(info, first, after)

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="aiSystems",
        description=f"The organisation's AI systems, searched and filtered, in the order of "
        f"`sort` (oldest first by default). A cursor belongs to its sort. `first` is at most "
        f"{MAX_PAGE_SIZE}.",
    )
    async def ai_systems(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: AISystemFilter | None = None,
        sort: AISystemSort | None = None,
    ) -> AISystemConnection:
        check_page_size(first)
        start = Position.decode(after)
        page = await info.context.clients.inventory.list_systems(
            limit=start.skip + first,
            after=start.upstream,
            name_contains=filter.name_contains if filter else None,
            filters=filter.params() if filter else None,
            sort=sort.value if sort else None,
        )
        items = page.items[start.skip :]
        await _prefetch_page(info, [item.id for item in items])
        loader = info.context.loaders.inventory_systems
        edges: list[relay.Edge[AISystem]] = []
        for index, item in enumerate(items):
            loader.prime(item.id, item)  # so node/aiSystem lookups in this request are free
            is_last = index == len(items) - 1
            position = (
                Position(upstream=page.next_cursor)
                if is_last and page.next_cursor
                else Position(upstream=start.upstream, skip=start.skip + index + 1)
            )
            edges.append(relay.Edge(cursor=position.encode(), node=AISystem.from_upstream(item)))
        return AISystemConnection(
            edges=edges,
            page_info=relay.PageInfo(
                has_next_page=page.next_cursor is not None,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="aiSystem",
        description="One AI system by its ID (or register UUID); null when your organisation "
        "has no such system.",
    )
    async def ai_system(self, info: Info, id: strawberry.ID) -> AISystem | None:
        system = await info.context.loaders.inventory_systems.load(parse_ai_system_id(id))
        return AISystem.from_upstream(system) if system is not None else None

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="aiSystemHistory",
        description="Who changed what in an AI system, newest first.",
    )
    async def ai_system_history(
        self,
        info: Info,
        id: strawberry.ID,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> AISystemChangeConnection:
        check_page_size(first)
        start = Position.decode(after)
        page = await info.context.clients.inventory.system_history(
            parse_ai_system_id(id), limit=start.skip + first, after=start.upstream
        )
        edges, page_info = _page_edges(page, start, after)
        return AISystemChangeConnection(
            page_info=page_info,
            edges=[
                AISystemChangeEdge(cursor=cursor, node=AISystemChange.from_upstream(item))
                for cursor, item in edges
            ],
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="aiSystemsCompleteness",
        description="Live systems missing an owner, review date, purpose, data inputs, sector or "
        "AI roles, or past their review date; with counts.",
    )
    async def ai_systems_completeness(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> AISystemsCompleteness:
        check_page_size(first)
        start = Position.decode(after)
        page = await info.context.clients.inventory.completeness(
            limit=start.skip + first, after=start.upstream
        )
        edges, page_info = _page_edges(page, start, after)
        c = page.counts
        return AISystemsCompleteness(
            counts=AISystemCompletenessCounts(
                systems=c.systems,
                with_gaps=c.with_gaps,
                owner=c.owner,
                next_review_at=c.next_review_at,
                intended_purpose=c.intended_purpose,
                data_inputs=c.data_inputs,
                sector=c.sector,
                ai_roles=c.ai_roles,
                review_overdue=c.review_overdue,
            ),
            page_info=page_info,
            edges=[
                AISystemGapsEdge(cursor=cursor, node=AISystemGaps.from_upstream(item))
                for cursor, item in edges
            ],
        )


@strawberry.type
class AISystemMutation:
    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="registerAISystem",
        description="Add an AI system to the register (roles: admin, manager, risk_owner, "
        "contributor).",
    )
    async def register_ai_system(
        self, info: Info, input: RegisterAISystemInput
    ) -> RegisterAISystemPayload:
        body: dict[str, Any] = {f: _rest_value(getattr(input, f)) for f in REGISTER_FIELDS}
        if input.custom_fields is not None:
            body["custom_fields"] = input.custom_fields
        created, errors = await attempt(
            info.context.clients.inventory.register_system(
                body, idempotency_key=input.idempotency_key
            )
        )
        if created is None:
            return RegisterAISystemPayload(ai_system=None, errors=errors)
        info.context.loaders.inventory_systems.prime(created.id, created)
        return RegisterAISystemPayload(ai_system=AISystem.from_upstream(created), errors=[])

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="updateAISystem",
        description="Change an AI system (roles: admin, manager, risk_owner, contributor). "
        "Send the version you read as `expectedVersion`; if the system changed since, nothing "
        "is written and a ConflictError comes back.",
    )
    async def update_ai_system(
        self, info: Info, input: UpdateAISystemInput
    ) -> UpdateAISystemPayload:
        body = {
            f: _rest_value(value)
            for f in UPDATE_FIELDS
            if (value := getattr(input, f)) is not strawberry.UNSET
        }
        updated, errors = await attempt(
            lambda: info.context.clients.inventory.update_system(
                parse_ai_system_id(input.id), body, expected_version=input.expected_version
            ),
            kind="AISystem",
            resource_id=input.id,
        )
        if updated is None:
            return UpdateAISystemPayload(ai_system=None, errors=errors)
        info.context.loaders.inventory_systems.prime(updated.id, updated)
        return UpdateAISystemPayload(ai_system=AISystem.from_upstream(updated), errors=[])
