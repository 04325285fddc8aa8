"""Components of AI systems, vendors and the dependency graph (inventory)."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from gateway.clients.components import (
    UpstreamComponent,
    UpstreamVendor,
)
from gateway.clients.schemas import UpstreamPage
from gateway.loaders.components import components_loaders
from gateway.loaders.system_components import SystemComponentsKey
from gateway.loaders.vendor_systems import VendorSystemsKey
from gateway.schema.ai_systems import AISystem, AISystemConnection, parse_ai_system_id
from gateway.schema.arguments import ComponentFilter, VendorFilter, merge_filter_argument
from gateway.schema.context import Info
from gateway.schema.embedded_pages import slice_page
from gateway.schema.errors import UserError
from gateway.schema.ids import parse_node_id, uuid_or_none
from gateway.schema.improvement import attempt, sent
from gateway.schema.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Position, check_page_size
from shared.errors import NotFound

N = TypeVar("N", bound=relay.Node)
U = TypeVar("U")


@strawberry.enum(description="What a component is.")
class ComponentKind(enum.Enum):
    MODEL = "model"
    DATASET = "dataset"
    THIRD_PARTY_AI_SERVICE = "third_party_ai_service"
    SOFTWARE = "software"
    SERVICE = "service"


@strawberry.type(name="Vendor", description="A third party providing components or services.")
class Vendor(relay.Node):
    vendor_id: relay.NodeID[uuid.UUID]
    name: str
    services: list[str] = strawberry.field(description="Services the vendor provides.")
    website: str | None
    contact: str | None
    last_reviewed_at: datetime | None
    next_review_at: datetime | None
    notes: str
    version: int = strawberry.field(description="Increases by one on every change.")

    @classmethod
    def from_upstream(cls, vendor: UpstreamVendor) -> Vendor:
        return cls(
            vendor_id=vendor.id,
            name=vendor.name,
            services=vendor.services,
            website=vendor.website,
            contact=vendor.contact,
            last_reviewed_at=vendor.last_reviewed_at,
            next_review_at=vendor.next_review_at,
            notes=vendor.notes,
            version=vendor.version,
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        description=f"The AI systems this vendor supplies (inventory), in register order; the "
        f"first page of every vendor on a page costs one upstream call together. `first` is at "
        f"most {MAX_PAGE_SIZE}."
    )
    async def systems(
        self, info: Info, first: int = 10, after: str | None = None
    ) -> AISystemConnection:
        return await systems_of_vendor(info, self.vendor_id, first, after)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Vendor | None]:
        ids = [uuid_or_none(i) for i in node_ids]
        found = await components_loaders(info.context).vendors.load_many(
            [i for i in ids if i is not None]
        )
        by_id = {v.id: v for v in found if v is not None}
        nodes = [Vendor.from_upstream(by_id[i]) if i in by_id else None for i in ids]
        if required and any(n is None for n in nodes):
            raise NotFound("No such vendor in your organisation.")
        return nodes


async def systems_of_vendor(
    info: Info, vendor_id: uuid.UUID, first: int, after: str | None
) -> AISystemConnection:
    """A vendor's systems. The first page of every vendor on a page comes from one inventory
    call (``/v1/ai-systems?vendor_id=…&vendor_id=…``); later pages (``after``) page through the
    vendor's own list."""
    check_page_size(first)
    systems = info.context.loaders.inventory_systems
    if after is None:
        found = await info.context.loaders.vendor_systems.load(VendorSystemsKey(vendor_id, first))
        edges: list[relay.Edge[AISystem]] = []
        for index, item in enumerate(found.items):
            systems.prime(item.id, item)
            cursor = Position(skip=index + 1).encode()
            edges.append(relay.Edge(cursor=cursor, node=AISystem.from_upstream(item)))
        page_info = relay.PageInfo(
            has_next_page=found.has_more,
            has_previous_page=False,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        )
        return AISystemConnection(edges=edges, page_info=page_info)
    start = Position.decode(after)
    page = await info.context.clients.inventory.systems_of_vendors(
        [vendor_id], limit=start.skip + first, after=start.upstream
    )
    edges = []
    items = page.items[start.skip :]
    for index, item in enumerate(items):
        systems.prime(item.id, item)
        is_last = index == len(items) - 1
        position = (
            Position(upstream=page.next_cursor)
            if is_last and page.next_cursor
            else Position(upstream=start.upstream, skip=start.skip + index + 1)
        )
        edges.append(relay.Edge(cursor=position.encode(), node=AISystem.from_upstream(item)))
    page_info = relay.PageInfo(
        has_next_page=page.next_cursor is not None,
        has_previous_page=True,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return AISystemConnection(edges=edges, page_info=page_info)


@strawberry.enum(name="ComponentSource", description="Who keeps a component or an edge.")
class ComponentSource(enum.Enum):
    MANUAL = strawberry.enum_value(
        "manual", description="Recorded by hand; a BOM import never removes it."
    )
    BOM = strawberry.enum_value(
        "bom",
        description="Kept by the system's CycloneDX BOM: a re-import that no longer lists it "
        "removes it.",
    )


@strawberry.type(
    name="Component",
    description="A model, dataset, third-party AI service, software or service of a system.",
)
class Component(relay.Node):
    component_id: relay.NodeID[uuid.UUID]
    kind: ComponentKind
    name: str
    component_version: str | None = strawberry.field(description="The component's own release.")
    description: str
    bom_ref: str | None = strawberry.field(description="CycloneDX bom-ref, when imported.")
    source: ComponentSource = strawberry.field(
        description="`BOM` when the system's CycloneDX BOM keeps it, `MANUAL` when recorded by "
        "hand."
    )
    model_card: JSON | None = strawberry.field(
        description="CycloneDX modelCard (modelParameters, quantitativeAnalysis, considerations)."
    )
    properties: JSON
    system_id: uuid.UUID | None = strawberry.field(
        description="Register UUID of the system it belongs to."
    )
    vendor_uuid: strawberry.Private[uuid.UUID | None]
    version: int = strawberry.field(description="Increases by one on every change.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_upstream(cls, component: UpstreamComponent) -> Component:
        return cls(
            component_id=component.id,
            kind=ComponentKind(component.kind),
            name=component.name,
            component_version=component.component_version,
            description=component.description,
            bom_ref=component.bom_ref,
            source=ComponentSource(component.source),
            model_card=JSON(component.model_card) if component.model_card is not None else None,
            properties=JSON(component.properties),
            system_id=component.system_id,
            vendor_uuid=component.vendor_id,
            version=component.version,
            created_at=component.created_at,
            updated_at=component.updated_at,
        )

    @strawberry.field(description="Who supplies it; null when built in-house.")  # type: ignore[untyped-decorator]
    async def vendor(self, info: Info) -> Vendor | None:
        if self.vendor_uuid is None:
            return None
        found = await components_loaders(info.context).vendors.load(self.vendor_uuid)
        return Vendor.from_upstream(found) if found is not None else None

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Component | None]:
        ids = [uuid_or_none(i) for i in node_ids]
        found = await components_loaders(info.context).components.load_many(
            [i for i in ids if i is not None]
        )
        by_id = {c.id: c for c in found if c is not None}
        nodes = [Component.from_upstream(by_id[i]) if i in by_id else None for i in ids]
        if required and any(n is None for n in nodes):
            raise NotFound("No such component in your organisation.")
        return nodes


@strawberry.type(name="VendorConnection", description="A page of vendors.")
class VendorConnection(relay.Connection[Vendor]):
    pass


@strawberry.type(name="ComponentConnection", description="A page of components.")
class ComponentConnection(relay.Connection[Component]):
    pass


async def _connection(
    first: int,
    after: str | None,
    fetch: Callable[[int, str | None], Awaitable[UpstreamPage[U]]],
    node: Callable[[U], N],
) -> tuple[list[relay.Edge[N]], relay.PageInfo]:
    """Relay edges over a service page (same cursor scheme as ``aiSystems``)."""
    check_page_size(first)
    start = Position.decode(after)
    page = await fetch(start.skip + first, start.upstream)
    items = page.items[start.skip :]
    edges: list[relay.Edge[N]] = []
    for index, item in enumerate(items):
        is_last = index == len(items) - 1
        position = (
            Position(upstream=page.next_cursor)
            if is_last and page.next_cursor
            else Position(upstream=start.upstream, skip=start.skip + index + 1)
        )
        edges.append(relay.Edge(cursor=position.encode(), node=node(item)))
    info = relay.PageInfo(
        has_next_page=page.next_cursor is not None,
        has_previous_page=after is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return edges, info


async def components_of_system(
    info: Info, system_id: uuid.UUID | None, first: int, after: str | None
) -> ComponentConnection:
    """A page of components (of one system when ``system_id`` is given). The first page of
    every system on a page of systems comes from one batched upstream call
    (``/v1/components-by-system``); later pages (``after``) page through
    ``/v1/components?system_id=…`` in the same order."""
    client = components_loaders(info.context).client
    loader = components_loaders(info.context).components

    def node(item: UpstreamComponent) -> Component:
        loader.prime(item.id, item)
        return Component.from_upstream(item)

    if system_id is not None and after is None:
        check_page_size(first)
        found = await info.context.loaders.system_components.load(
            SystemComponentsKey(system_id, first)
        )
        # Resuming after the n-th component re-reads the first page and skips n: one call.
        first_edges = [
            relay.Edge(cursor=Position(skip=index + 1).encode(), node=node(item))
            for index, item in enumerate(found.items)
        ]
        return ComponentConnection(
            edges=first_edges,
            page_info=relay.PageInfo(
                has_next_page=found.total_count > len(first_edges),
                has_previous_page=False,
                start_cursor=first_edges[0].cursor if first_edges else None,
                end_cursor=first_edges[-1].cursor if first_edges else None,
            ),
        )

    edges, page_info = await _connection(
        first,
        after,
        lambda limit, cursor: client.list_components(
            limit=limit, after=cursor, system_id=system_id
        ),
        node,
    )
    return ComponentConnection(edges=edges, page_info=page_info)


@strawberry.type(name="DependencyNode", description="A system, component or vendor in the graph.")
class DependencyNode:
    type: str = strawberry.field(description="`system`, `component` or `vendor`.")
    id: uuid.UUID = strawberry.field(description="The node's UUID in the inventory.")
    name: str


@strawberry.type(name="DependencyPath", description="A node reached, with its shortest path.")
class DependencyPath:
    node: DependencyNode
    depth: int = strawberry.field(description="Edges between the start and the node.")
    path: list[DependencyNode] = strawberry.field(description="From the start to the node.")


@strawberry.type(name="DependencyPathEdge")
class DependencyPathEdge:
    cursor: str
    node: DependencyPath


@strawberry.type(name="DependencyPathConnection", description="A page of a dependency walk.")
class DependencyPathConnection:
    page_info: relay.PageInfo
    edges: list[DependencyPathEdge]
    total_count: int = strawberry.field(description="Nodes reached in the whole walk.")


@strawberry.input(name="DependencyPathFilter", description="Which walk to page.")
class DependencyPathFilter:
    transitive: bool = strawberry.field(
        default=True,
        description="Follow dependencies of dependencies (cycle-safe); false: direct ones only.",
    )


@strawberry.type(name="ImportCounts")
class ImportCounts:
    created: int
    updated: int
    unchanged: int
    removed: int = strawberry.field(
        description="Removed because the re-imported BOM no longer lists them."
    )


@strawberry.type(name="BomComponentRef", description="A component a BOM import touched.")
class BomComponentRef:
    id: uuid.UUID = strawberry.field(description="The component's UUID in the inventory.")
    bom_ref: str | None
    name: str


@strawberry.type(name="BomEdgeRef", description="A dependency edge a BOM re-import removed.")
class BomEdgeRef:
    id: uuid.UUID
    from_type: str = strawberry.field(description="`system` or `component`.")
    from_id: uuid.UUID
    from_bom_ref: str | None = strawberry.field(description="When that end is a BOM component.")
    to_type: str = strawberry.field(description="`system` or `component`.")
    to_id: uuid.UUID
    to_bom_ref: str | None = strawberry.field(description="When that end is a BOM component.")
    source: ComponentSource


@strawberry.type(name="BomImportSummary", description="What a CycloneDX import changed.")
class BomImportSummary:
    system_id: uuid.UUID
    spec_version: str
    components: ImportCounts
    vendors: ImportCounts
    dependencies: ImportCounts
    created: list[BomComponentRef] = strawberry.field(description="Components the import recorded.")
    updated: list[BomComponentRef] = strawberry.field(
        description="Components whose facts it changed."
    )
    removed: list[BomComponentRef] = strawberry.field(
        description="Components an earlier import of this system's BOM recorded and this BOM no "
        "longer lists: deleted with their edges and interfaces. Components recorded by hand are "
        "never removed."
    )
    removed_dependencies: list[BomEdgeRef] = strawberry.field(
        description="Edges deleted: those an earlier import recorded and this BOM no longer "
        "lists, and any edge of a removed component."
    )
    removed_interfaces: list[uuid.UUID] = strawberry.field(
        description="Interfaces deleted because a component at one end was removed."
    )


@strawberry.input(name="CreateVendorInput")
class CreateVendorInput:
    name: str
    services: list[str] = strawberry.field(default_factory=list)
    website: str | None = None
    contact: str | None = None
    last_reviewed_at: datetime | None = None
    next_review_at: datetime | None = None
    notes: str = ""
    idempotency_key: str | None = strawberry.field(
        default=None, description="Send the same key when retrying: created once."
    )


@strawberry.input(name="CreateComponentInput")
class CreateComponentInput:
    kind: ComponentKind
    name: str
    component_version: str | None = None
    description: str = ""
    system_id: strawberry.ID | None = strawberry.field(
        default=None, description="AISystem ID (or register UUID) it belongs to."
    )
    vendor_id: strawberry.ID | None = strawberry.field(
        default=None, description="Vendor ID (or UUID) that supplies it."
    )
    model_card: JSON | None = None
    properties: JSON | None = None
    idempotency_key: str | None = strawberry.field(
        default=None, description="Send the same key when retrying: created once."
    )


@strawberry.type(name="CreateVendorPayload")
class CreateVendorPayload:
    vendor: Vendor | None = strawberry.field(description="Null when `errors` is not empty.")
    errors: list[UserError]


@strawberry.type(name="CreateComponentPayload")
class CreateComponentPayload:
    component: Component | None = strawberry.field(description="Null when `errors` is not empty.")
    errors: list[UserError]


@strawberry.input(name="UpdateVendorInput", description="Omitted fields keep their value.")
class UpdateVendorInput:
    id: strawberry.ID = strawberry.field(description="A Vendor ID (or UUID).")
    expected_version: int = strawberry.field(description="The version you read.")
    name: str | None = strawberry.UNSET
    services: list[str] | None = strawberry.UNSET
    website: str | None = strawberry.UNSET
    contact: str | None = strawberry.UNSET
    last_reviewed_at: datetime | None = strawberry.UNSET
    next_review_at: datetime | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET


VENDOR_FIELDS = (
    "name",
    "services",
    "website",
    "contact",
    "last_reviewed_at",
    "next_review_at",
    "notes",
)


@strawberry.input(name="UpdateComponentInput", description="Omitted fields keep their value.")
class UpdateComponentInput:
    id: strawberry.ID = strawberry.field(description="A Component ID (or UUID).")
    expected_version: int = strawberry.field(description="The version you read.")
    kind: ComponentKind | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    component_version: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    system_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="AISystem ID (or register UUID) it belongs to."
    )
    vendor_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Vendor ID (or UUID) that supplies it."
    )
    model_card: JSON | None = strawberry.UNSET
    properties: JSON | None = strawberry.UNSET


COMPONENT_FIELDS = ("kind", "name", "component_version", "description", "model_card", "properties")


@strawberry.input(name="DeleteByIdInput", description="What to delete, at the version you read.")
class DeleteByIdInput:
    id: strawberry.ID
    expected_version: int


@strawberry.type(name="UpdateVendorPayload")
class UpdateVendorPayload:
    vendor: Vendor | None = strawberry.field(description="Null when `errors` is not empty.")
    errors: list[UserError]


@strawberry.type(name="UpdateComponentPayload")
class UpdateComponentPayload:
    component: Component | None = strawberry.field(description="Null when `errors` is not empty.")
    errors: list[UserError]


@strawberry.type(name="DeletePayload")
class DeletePayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        description="The deleted object's ID; null when `errors` is not empty."
    )
    errors: list[UserError]


@strawberry.type(name="ImportBomPayload")
class ImportBomPayload:
    summary: BomImportSummary | None = strawberry.field(
        description="Null when `errors` is not empty (then nothing changed)."
    )
    errors: list[UserError]


def _parse_vendor_id(value: str) -> uuid.UUID:
    return parse_node_id(value, "Vendor", field="vendorId")


def _dependency_path(item: Any) -> DependencyPath:
    def node(n: Any) -> DependencyNode:
        return DependencyNode(type=n.type, id=n.id, name=n.name)

    return DependencyPath(node=node(item.node), depth=item.depth, path=[node(n) for n in item.path])


@strawberry.type
class ComponentQuery:
    @strawberry.field(  # type: ignore[untyped-decorator]
        description=f"The organisation's vendors, oldest first. `first` is at most {MAX_PAGE_SIZE}."
    )
    async def vendors(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: VendorFilter | None = None,
        name_contains: Annotated[
            str | None, strawberry.argument(deprecation_reason="Use filter.nameContains")
        ] = None,
    ) -> VendorConnection:
        name_contains = merge_filter_argument(
            filter.name_contains if filter else None,
            name_contains,
            name="nameContains",
        )
        loaders = components_loaders(info.context)

        def node(item: UpstreamVendor) -> Vendor:
            loaders.vendors.prime(item.id, item)
            return Vendor.from_upstream(item)

        edges, page_info = await _connection(
            first,
            after,
            lambda limit, cursor: loaders.client.list_vendors(
                limit=limit, after=cursor, name_contains=name_contains
            ),
            node,
        )
        return VendorConnection(edges=edges, page_info=page_info)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="The organisation's components, oldest first; `filter.systemId` narrows to "
        "one system's."
    )
    async def components(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: ComponentFilter | None = None,
        system_id: Annotated[
            strawberry.ID | None, strawberry.argument(deprecation_reason="Use filter.systemId")
        ] = None,
    ) -> ComponentConnection:
        system_id = merge_filter_argument(
            filter.system_id if filter else None, system_id, name="systemId"
        )
        system = parse_ai_system_id(system_id) if system_id is not None else None
        return await components_of_system(info, system, first, after)

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="systemDependencies",
        description="Every system, component and vendor an AI system depends on (transitively "
        "unless `transitive: false`), nearest first, each with its shortest path; null when "
        "your organisation has no such system.",
        deprecation_reason="Use systemDependenciesConnection: a dependency graph grows, this "
        "list has no paging.",
    )
    async def system_dependencies(
        self, info: Info, id: strawberry.ID, transitive: bool = True
    ) -> list[DependencyPath] | None:
        return await _dependency_walk(info, id, transitive)

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="systemDependenciesConnection",
        description="Every system, component and vendor an AI system depends on (transitively "
        "unless `filter.transitive` is false), nearest first, each with its shortest path; null "
        "when your organisation has no such system. The inventory walks the graph in one call "
        "(it must, to order by distance); the gateway pages over that walk, so each page costs "
        "one upstream call whatever its position.",
    )
    async def system_dependencies_connection(
        self,
        info: Info,
        id: strawberry.ID,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: DependencyPathFilter | None = None,
    ) -> DependencyPathConnection | None:
        check_page_size(first)
        transitive = filter.transitive if filter is not None else True
        found = await _dependency_walk(info, id, transitive)
        if found is None:
            return None
        pairs, page_info = slice_page(found, first, after, lambda p: p)
        return DependencyPathConnection(
            page_info=page_info,
            edges=[DependencyPathEdge(cursor=c, node=n) for c, n in pairs],
            total_count=len(found),
        )


async def _dependency_walk(
    info: Info, id: strawberry.ID, transitive: bool
) -> list[DependencyPath] | None:
    system_id = parse_ai_system_id(id)
    try:
        # These fields serve whole paths, which the inventory gives only when asked.
        graph = await info.context.clients.components.system_dependencies(
            system_id, transitive=transitive, paths=True
        )
    except NotFound:
        return None
    return [_dependency_path(item) for item in graph.items]


@strawberry.type
class ComponentMutation:
    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="createVendor", description="Record a vendor (roles: editors)."
    )
    async def create_vendor(self, info: Info, input: CreateVendorInput) -> CreateVendorPayload:
        body: dict[str, Any] = {
            "name": input.name,
            "services": input.services,
            "website": input.website,
            "contact": input.contact,
            "last_reviewed_at": input.last_reviewed_at.isoformat()
            if input.last_reviewed_at
            else None,
            "next_review_at": input.next_review_at.isoformat() if input.next_review_at else None,
            "notes": input.notes,
        }
        loaders = components_loaders(info.context)
        created, errors = await attempt(
            loaders.client.create_vendor(body, idempotency_key=input.idempotency_key)
        )
        if created is None:
            return CreateVendorPayload(vendor=None, errors=errors)
        loaders.vendors.prime(created.id, created)
        return CreateVendorPayload(vendor=Vendor.from_upstream(created), errors=[])

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="createComponent", description="Record a component (roles: editors)."
    )
    async def create_component(
        self, info: Info, input: CreateComponentInput
    ) -> CreateComponentPayload:
        loaders = components_loaders(info.context)

        def create() -> Awaitable[UpstreamComponent]:
            body: dict[str, Any] = {
                "kind": input.kind.value,
                "name": input.name,
                "component_version": input.component_version,
                "description": input.description,
                "system_id": str(parse_ai_system_id(input.system_id)) if input.system_id else None,
                "vendor_id": str(_parse_vendor_id(input.vendor_id)) if input.vendor_id else None,
                "model_card": input.model_card,
                "properties": input.properties or {},
            }
            return loaders.client.create_component(body, idempotency_key=input.idempotency_key)

        created, errors = await attempt(create)
        if created is None:
            return CreateComponentPayload(component=None, errors=errors)
        loaders.components.prime(created.id, created)
        return CreateComponentPayload(component=Component.from_upstream(created), errors=[])

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="updateVendor",
        description="Change a vendor (roles: editors); a stale `expectedVersion` is a "
        "`ConflictError`.",
    )
    async def update_vendor(self, info: Info, input: UpdateVendorInput) -> UpdateVendorPayload:
        found, errors = await attempt(
            lambda: info.context.clients.components.update_vendor(
                _parse_vendor_id(input.id),
                sent(input, VENDOR_FIELDS),
                expected_version=input.expected_version,
            ),
            kind="Vendor",
            resource_id=input.id,
        )
        if found is None:
            return UpdateVendorPayload(vendor=None, errors=errors)
        info.context.loaders.vendors.prime(found.id, found, force=True)
        return UpdateVendorPayload(vendor=Vendor.from_upstream(found), errors=[])

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="deleteVendor",
        description="Delete a vendor recorded by mistake (roles: editors); one that components "
        "or systems still name is a `ConflictError`.",
    )
    async def delete_vendor(self, info: Info, input: DeleteByIdInput) -> DeletePayload:
        vendor_id = _parse_vendor_id(input.id)
        _, errors = await attempt(
            info.context.clients.components.delete_vendor(
                vendor_id, expected_version=input.expected_version
            ),
            kind="Vendor",
            resource_id=input.id,
        )
        if errors:
            return DeletePayload(deleted_id=None, errors=errors)
        global_id = relay.GlobalID("Vendor", str(vendor_id))
        return DeletePayload(deleted_id=strawberry.ID(str(global_id)), errors=[])

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="updateComponent",
        description="Change a component (roles: editors); a stale `expectedVersion` is a "
        "`ConflictError`.",
    )
    async def update_component(
        self, info: Info, input: UpdateComponentInput
    ) -> UpdateComponentPayload:

        def update() -> Awaitable[UpstreamComponent]:
            body = sent(input, COMPONENT_FIELDS)
            if input.system_id is not strawberry.UNSET:
                body["system_id"] = (
                    str(parse_ai_system_id(input.system_id)) if input.system_id else None
                )
            if input.vendor_id is not strawberry.UNSET:
                body["vendor_id"] = (
                    str(_parse_vendor_id(input.vendor_id)) if input.vendor_id else None
                )
            return info.context.clients.components.update_component(
                parse_node_id(input.id, "Component"), body, expected_version=input.expected_version
            )

        found, errors = await attempt(update, kind="Component", resource_id=input.id)
        if found is None:
            return UpdateComponentPayload(component=None, errors=errors)
        info.context.loaders.components.prime(found.id, found, force=True)
        return UpdateComponentPayload(component=Component.from_upstream(found), errors=[])

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="deleteComponent",
        description="Delete a component (roles: editors); its dependency edges go with it.",
    )
    async def delete_component(self, info: Info, input: DeleteByIdInput) -> DeletePayload:
        component_id = parse_node_id(input.id, "Component")
        _, errors = await attempt(
            info.context.clients.components.delete_component(
                component_id, expected_version=input.expected_version
            ),
            kind="Component",
            resource_id=input.id,
        )
        if errors:
            return DeletePayload(deleted_id=None, errors=errors)
        global_id = relay.GlobalID("Component", str(component_id))
        return DeletePayload(deleted_id=strawberry.ID(str(global_id)), errors=[])

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="importBom",
        description="Import a CycloneDX ML-BOM (JSON, spec 1.4 to 1.7) into an AI system: all "
        "or nothing; re-importing updates by bom-ref and never duplicates, and removes the "
        "components and edges an earlier import recorded that the new BOM no longer lists "
        "(listed in `removed`, `removedDependencies`; hand-recorded ones stay) (roles: "
        "editors).",
    )
    async def import_bom(self, info: Info, system_id: strawberry.ID, bom: JSON) -> ImportBomPayload:
        client = components_loaders(info.context).client
        summary, errors = await attempt(
            lambda: client.import_bom(parse_ai_system_id(system_id), bom),
            kind="AISystem",
            resource_id=system_id,
        )
        if summary is None:
            return ImportBomPayload(summary=None, errors=errors)

        def counts(c: Any) -> ImportCounts:
            return ImportCounts(
                created=c.created, updated=c.updated, unchanged=c.unchanged, removed=c.removed
            )

        def refs(items: list[Any]) -> list[BomComponentRef]:
            return [BomComponentRef(id=r.id, bom_ref=r.bom_ref, name=r.name) for r in items]

        return ImportBomPayload(
            summary=BomImportSummary(
                system_id=summary.system_id,
                spec_version=summary.spec_version,
                components=counts(summary.components),
                vendors=counts(summary.vendors),
                dependencies=counts(summary.dependencies),
                created=refs(summary.created),
                updated=refs(summary.updated),
                removed=refs(summary.removed),
                removed_dependencies=[
                    BomEdgeRef(
                        id=e.id,
                        from_type=e.from_type,
                        from_id=e.from_id,
                        from_bom_ref=e.from_bom_ref,
                        to_type=e.to_type,
                        to_id=e.to_id,
                        to_bom_ref=e.to_bom_ref,
                        source=ComponentSource(e.source),
                    )
                    for e in summary.removed_dependencies
                ],
                removed_interfaces=list(summary.removed_interfaces),
            ),
            errors=[],
        )
