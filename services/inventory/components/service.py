"""Use cases of components, vendors, dependencies and interfaces. Services flush, never commit:
the request owns the transaction, so a change and its outbox event commit together."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.components import graph
from services.inventory.components.cyclonedx import ParsedBom
from services.inventory.components.errors import (
    BomRefTaken,
    ComponentNotFound,
    DependencyExists,
    DependencyNotFound,
    InterfaceNotFound,
    ReferenceNotFound,
    SelfDependency,
    VendorInUse,
    VendorNameTaken,
    VendorNotFound,
)
from services.inventory.components.events import (
    COMPONENT_CREATED,
    COMPONENT_DELETED,
    COMPONENT_UPDATED,
    VENDOR_CREATED,
    VENDOR_DELETED,
    VENDOR_UPDATED,
)
from services.inventory.components.models import (
    Component,
    Dependency,
    Interface,
    NodeType,
    Source,
    Vendor,
)
from services.inventory.components.repository import (
    ComponentsRepository,
    EdgeEnds,
    name_filter,
)
from services.inventory.components.schemas import (
    BomComponentRef,
    BomEdgeRef,
    BomImportSummary,
    ComponentCreate,
    ComponentRead,
    ComponentUpdate,
    DependencyCreate,
    DependencyGraph,
    DependencyPath,
    DependencyRead,
    GraphNode,
    GraphNodeRef,
    ImportCounts,
    InterfaceCreate,
    InterfaceRead,
    InterfaceUpdate,
    SystemComponents,
    VendorCreate,
    VendorRead,
    VendorUpdate,
)
from services.inventory.systems.errors import AISystemNotFound
from shared.auth import Principal
from shared.db import utcnow, uuid7
from shared.events import EventType, emit, make_event
from shared.http import check_version
from shared.text import name_key

_NOT_FOUND = {
    "system": "No AI system {id} in your organisation.",
    "component": "No component {id} in your organisation.",
    "vendor": "No vendor {id} in your organisation.",
}


async def _require_reference(
    repo: ComponentsRepository, node_type: str, node_id: uuid.UUID
) -> None:
    if not await repo.node_exists(node_type, node_id):
        raise ReferenceNotFound(_NOT_FOUND[node_type].format(id=node_id), reference=node_type)


async def _emit_vendor(session: AsyncSession, event_type: EventType, vendor: Vendor) -> VendorRead:
    state = VendorRead.model_validate(vendor)
    await emit(
        session,
        make_event(
            event_type, org_id=vendor.org_id, subject=vendor.id, version=state.version, data=state
        ),
    )
    return state


async def _emit_component(
    session: AsyncSession, event_type: EventType, component: Component
) -> ComponentRead:
    state = ComponentRead.model_validate(component)
    await emit(
        session,
        make_event(
            event_type,
            org_id=component.org_id,
            subject=component.id,
            version=state.version,
            data=state,
        ),
    )
    return state


def _stamp(row: Any, principal: Principal) -> None:
    row.version += 1
    row.updated_at = utcnow()
    if hasattr(row, "updated_by"):
        row.updated_by = principal.subject


# --- Vendors ----------------------------------------------------------------------------------


async def create_vendor(
    session: AsyncSession, principal: Principal, body: VendorCreate
) -> VendorRead:
    repo = ComponentsRepository(session)
    if await repo.vendor_by_name(body.name) is not None:
        raise VendorNameTaken(f"A vendor named {body.name!r} exists already.")
    now = utcnow()
    vendor = Vendor(
        id=uuid7(),
        org_id=principal.org_id,
        version=1,
        created_at=now,
        updated_at=now,
        **body.model_dump(),
    )
    repo.add(vendor)
    await _flush_vendor(session, vendor)
    return await _emit_vendor(session, VENDOR_CREATED, vendor)


async def _flush_vendor(session: AsyncSession, vendor: Vendor) -> None:
    """Flush; a concurrent request that took the name first makes this a 409, not a 500."""
    name = vendor.name  # read now: a failed flush expires the row (and ends the transaction)
    try:
        await session.flush()
    except sa.exc.IntegrityError as exc:
        if "uq_vendor_org_name_key" in str(exc.orig):
            raise VendorNameTaken(f"A vendor named {name!r} exists already.") from exc
        raise


async def get_vendor(session: AsyncSession, vendor_id: uuid.UUID) -> VendorRead:
    vendor = await ComponentsRepository(session).get(Vendor, vendor_id)
    if vendor is None:
        raise VendorNotFound(_NOT_FOUND["vendor"].format(id=vendor_id))
    return VendorRead.model_validate(vendor)


async def list_vendors(
    session: AsyncSession,
    *,
    limit: int,
    after: uuid.UUID | None,
    name_contains: str | None,
    ids: list[uuid.UUID] | None = None,
) -> tuple[list[VendorRead], list[Vendor]]:
    where = name_filter(Vendor.name, name_contains)
    if ids:
        where.append(Vendor.id.in_(ids))
    rows = await ComponentsRepository(session).page(
        Vendor, limit=limit + 1, after=after, where=where
    )
    return [VendorRead.model_validate(r) for r in rows[:limit]], rows


async def update_vendor(
    session: AsyncSession,
    principal: Principal,
    vendor_id: uuid.UUID,
    body: VendorUpdate,
    if_match: str | None,
) -> VendorRead:
    repo = ComponentsRepository(session)
    vendor = await repo.get(Vendor, vendor_id, for_update=True)
    if vendor is None:
        raise VendorNotFound(_NOT_FOUND["vendor"].format(id=vendor_id))
    check_version(if_match, vendor.version)
    changes = body.model_dump(exclude_unset=True)
    for required in ("name", "services", "notes"):
        if changes.get(required, "") is None:
            changes.pop(required)
    renamed = "name" in changes and name_key(changes["name"]) != vendor.name_key
    if renamed and await repo.vendor_by_name(changes["name"]) is not None:
        raise VendorNameTaken(f"A vendor named {changes['name']!r} exists already.")
    changes = {k: v for k, v in changes.items() if getattr(vendor, k) != v}
    if not changes:
        return VendorRead.model_validate(vendor)
    for field, value in changes.items():
        setattr(vendor, field, value)
    _stamp(vendor, principal)
    await _flush_vendor(session, vendor)
    return await _emit_vendor(session, VENDOR_UPDATED, vendor)


async def delete_vendor(
    session: AsyncSession, principal: Principal, vendor_id: uuid.UUID, if_match: str | None
) -> None:
    repo = ComponentsRepository(session)
    vendor = await repo.get(Vendor, vendor_id, for_update=True)
    if vendor is None:
        raise VendorNotFound(_NOT_FOUND["vendor"].format(id=vendor_id))
    check_version(if_match, vendor.version)
    if await repo.vendor_in_use(vendor_id):
        raise VendorInUse("Components still name this vendor; change or delete them first.")
    vendor.version += 1  # the deletion is a change: consumers order by version
    await _emit_vendor(session, VENDOR_DELETED, vendor)
    await repo.delete(vendor)
    await session.flush()


# --- Components -------------------------------------------------------------------------------


async def create_component(
    session: AsyncSession, principal: Principal, body: ComponentCreate
) -> ComponentRead:
    repo = ComponentsRepository(session)
    if body.system_id is not None:
        await _require_reference(repo, "system", body.system_id)
    if body.vendor_id is not None:
        await _require_reference(repo, "vendor", body.vendor_id)
    now = utcnow()
    data = body.model_dump()
    data["kind"] = body.kind.value
    component = Component(
        id=uuid7(),
        org_id=principal.org_id,
        version=1,
        created_at=now,
        updated_at=now,
        created_by=principal.subject,
        updated_by=principal.subject,
        **data,
    )
    repo.add(component)
    await _flush_component(session, component)
    return await _emit_component(session, COMPONENT_CREATED, component)


async def _flush_component(session: AsyncSession, component: Component) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except sa.exc.IntegrityError as exc:
        if "uq_component_bom_ref" in str(exc.orig):
            raise BomRefTaken(
                f"The system has a component with bom-ref {component.bom_ref!r} already."
            ) from exc
        raise


async def get_component(session: AsyncSession, component_id: uuid.UUID) -> ComponentRead:
    component = await ComponentsRepository(session).get(Component, component_id)
    if component is None:
        raise ComponentNotFound(_NOT_FOUND["component"].format(id=component_id))
    return ComponentRead.model_validate(component)


async def list_components(
    session: AsyncSession,
    *,
    limit: int,
    after: uuid.UUID | None,
    system_id: uuid.UUID | None = None,
    vendor_id: uuid.UUID | None = None,
    kind: str | None = None,
    name_contains: str | None = None,
    ids: list[uuid.UUID] | None = None,
) -> tuple[list[ComponentRead], list[Component]]:
    where = name_filter(Component.name, name_contains)
    if ids:
        where.append(Component.id.in_(ids))
    if system_id is not None:
        where.append(Component.system_id == system_id)
    if vendor_id is not None:
        where.append(Component.vendor_id == vendor_id)
    if kind is not None:
        where.append(Component.kind == kind)
    rows = await ComponentsRepository(session).page(
        Component, limit=limit + 1, after=after, where=where
    )
    return [ComponentRead.model_validate(r) for r in rows[:limit]], rows


async def components_by_system(
    session: AsyncSession, system_ids: list[uuid.UUID], *, first: int
) -> list[SystemComponents]:
    """Each system's first ``first`` components and their total, in the order asked
    (duplicates answered once; one query whatever the number of systems)."""
    wanted = list(dict.fromkeys(system_ids))
    grouped = {sid: SystemComponents(system_id=sid, total_count=0, items=[]) for sid in wanted}
    rows = await ComponentsRepository(session).components_by_system(wanted, first=first)
    for component, total in rows:
        if component.system_id in grouped:
            entry = grouped[component.system_id]
            entry.total_count = total
            entry.items.append(ComponentRead.model_validate(component))
    return [grouped[sid] for sid in wanted]


async def update_component(
    session: AsyncSession,
    principal: Principal,
    component_id: uuid.UUID,
    body: ComponentUpdate,
    if_match: str | None,
) -> ComponentRead:
    repo = ComponentsRepository(session)
    component = await repo.get(Component, component_id, for_update=True)
    if component is None:
        raise ComponentNotFound(_NOT_FOUND["component"].format(id=component_id))
    check_version(if_match, component.version)
    changes = body.model_dump(exclude_unset=True, mode="python")
    for required in ("kind", "name", "description", "properties"):
        if required in changes and changes[required] is None:
            changes.pop(required)
    if "kind" in changes:
        changes["kind"] = str(changes["kind"])
    if changes.get("system_id") is not None:
        await _require_reference(repo, "system", changes["system_id"])
    if changes.get("vendor_id") is not None:
        await _require_reference(repo, "vendor", changes["vendor_id"])
    changes = {k: v for k, v in changes.items() if getattr(component, k) != v}
    if not changes:
        return ComponentRead.model_validate(component)
    for field, value in changes.items():
        setattr(component, field, value)
    _stamp(component, principal)
    await _flush_component(session, component)
    return await _emit_component(session, COMPONENT_UPDATED, component)


async def delete_component(
    session: AsyncSession, principal: Principal, component_id: uuid.UUID, if_match: str | None
) -> None:
    repo = ComponentsRepository(session)
    component = await repo.get(Component, component_id, for_update=True)
    if component is None:
        raise ComponentNotFound(_NOT_FOUND["component"].format(id=component_id))
    check_version(if_match, component.version)
    await repo.delete_edges_of("component", component_id)
    component.version += 1
    component.updated_by = principal.subject
    await _emit_component(session, COMPONENT_DELETED, component)
    await repo.delete(component)
    await session.flush()


# --- Dependencies -----------------------------------------------------------------------------


async def create_dependency(
    session: AsyncSession, principal: Principal, body: DependencyCreate
) -> DependencyRead:
    repo = ComponentsRepository(session)
    await _require_reference(repo, body.from_type.value, body.from_id)
    await _require_reference(repo, body.to_type.value, body.to_id)
    if (body.from_type, body.from_id) == (body.to_type, body.to_id):
        raise SelfDependency("A node cannot depend on itself.")
    if await repo.edge_exists(body.from_type.value, body.from_id, body.to_type.value, body.to_id):
        raise DependencyExists("This dependency is recorded already.")
    now = utcnow()
    edge = Dependency(
        id=uuid7(),
        org_id=principal.org_id,
        version=1,
        created_at=now,
        updated_at=now,
        from_type=body.from_type.value,
        from_id=body.from_id,
        to_type=body.to_type.value,
        to_id=body.to_id,
        relation=body.relation.value,
        created_by=principal.subject,
    )
    repo.add(edge)
    await session.flush()
    return DependencyRead.model_validate(edge)


async def get_dependency(session: AsyncSession, dependency_id: uuid.UUID) -> DependencyRead:
    edge = await ComponentsRepository(session).get(Dependency, dependency_id)
    if edge is None:
        raise DependencyNotFound(f"No dependency {dependency_id} in your organisation.")
    return DependencyRead.model_validate(edge)


async def list_dependencies(
    session: AsyncSession,
    *,
    limit: int,
    after: uuid.UUID | None,
    from_id: uuid.UUID | None = None,
    to_id: uuid.UUID | None = None,
) -> tuple[list[DependencyRead], list[Dependency]]:
    where: list[sa.ColumnElement[bool]] = []
    if from_id is not None:
        where.append(Dependency.from_id == from_id)
    if to_id is not None:
        where.append(Dependency.to_id == to_id)
    rows = await ComponentsRepository(session).page(
        Dependency, limit=limit + 1, after=after, where=where
    )
    return [DependencyRead.model_validate(r) for r in rows[:limit]], rows


async def delete_dependency(session: AsyncSession, dependency_id: uuid.UUID) -> None:
    repo = ComponentsRepository(session)
    edge = await repo.get(Dependency, dependency_id, for_update=True)
    if edge is None:
        raise DependencyNotFound(f"No dependency {dependency_id} in your organisation.")
    await repo.delete(edge)
    await session.flush()


# --- Interfaces -------------------------------------------------------------------------------


async def create_interface(
    session: AsyncSession, principal: Principal, body: InterfaceCreate
) -> InterfaceRead:
    repo = ComponentsRepository(session)
    await _require_reference(repo, body.from_type.value, body.from_id)
    await _require_reference(repo, body.to_type.value, body.to_id)
    now = utcnow()
    interface = Interface(
        id=uuid7(),
        org_id=principal.org_id,
        version=1,
        created_at=now,
        updated_at=now,
        from_type=body.from_type.value,
        from_id=body.from_id,
        to_type=body.to_type.value,
        to_id=body.to_id,
        direction=body.direction.value,
        data_exchanged=body.data_exchanged,
        protocol=body.protocol,
        description=body.description,
        created_by=principal.subject,
        updated_by=principal.subject,
    )
    repo.add(interface)
    await session.flush()
    return InterfaceRead.model_validate(interface)


async def get_interface(session: AsyncSession, interface_id: uuid.UUID) -> InterfaceRead:
    interface = await ComponentsRepository(session).get(Interface, interface_id)
    if interface is None:
        raise InterfaceNotFound(f"No interface {interface_id} in your organisation.")
    return InterfaceRead.model_validate(interface)


async def list_interfaces(
    session: AsyncSession, *, limit: int, after: uuid.UUID | None, node_id: uuid.UUID | None
) -> tuple[list[InterfaceRead], list[Interface]]:
    where: list[sa.ColumnElement[bool]] = []
    if node_id is not None:
        where.append(sa.or_(Interface.from_id == node_id, Interface.to_id == node_id))
    rows = await ComponentsRepository(session).page(
        Interface, limit=limit + 1, after=after, where=where
    )
    return [InterfaceRead.model_validate(r) for r in rows[:limit]], rows


async def update_interface(
    session: AsyncSession,
    principal: Principal,
    interface_id: uuid.UUID,
    body: InterfaceUpdate,
    if_match: str | None,
) -> InterfaceRead:
    repo = ComponentsRepository(session)
    interface = await repo.get(Interface, interface_id, for_update=True)
    if interface is None:
        raise InterfaceNotFound(f"No interface {interface_id} in your organisation.")
    check_version(if_match, interface.version)
    changes = body.model_dump(exclude_unset=True)
    for required in ("direction", "data_exchanged", "description"):
        if required in changes and changes[required] is None:
            changes.pop(required)
    if "direction" in changes:
        changes["direction"] = str(changes["direction"])
    changes = {k: v for k, v in changes.items() if getattr(interface, k) != v}
    if not changes:
        return InterfaceRead.model_validate(interface)
    for field, value in changes.items():
        setattr(interface, field, value)
    _stamp(interface, principal)
    await session.flush()
    return InterfaceRead.model_validate(interface)


async def delete_interface(
    session: AsyncSession, interface_id: uuid.UUID, if_match: str | None
) -> None:
    repo = ComponentsRepository(session)
    interface = await repo.get(Interface, interface_id, for_update=True)
    if interface is None:
        raise InterfaceNotFound(f"No interface {interface_id} in your organisation.")
    check_version(if_match, interface.version)
    await repo.delete(interface)
    await session.flush()


# --- Graph queries ----------------------------------------------------------------------------


def _graph(reach: graph.Reach, *, paths: bool) -> DependencyGraph:
    made: dict[graph.PathNode, GraphNode] = {}

    def node(n: graph.PathNode) -> GraphNode:  # one model per node, shared by every path
        if (found := made.get(n)) is None:
            found = made[n] = GraphNode(type=n.type, id=n.id, name=n.name)
        return found

    all_paths = reach.all_paths() if paths else None
    return DependencyGraph(
        start=node(reach.start),
        items=[
            DependencyPath(
                node=node(item.node),
                depth=item.depth,
                via=GraphNodeRef(type=item.via.type, id=item.via.id),
                path=[node(n) for n in all_paths[i]] if all_paths is not None else None,
            )
            for i, item in enumerate(reach.items)
        ],
    )


async def system_dependencies(
    session: AsyncSession, system_id: uuid.UUID, *, transitive: bool, paths: bool = False
) -> DependencyGraph:
    names = await graph.node_names(session, [("system", system_id)])
    if ("system", system_id) not in names:
        raise AISystemNotFound(_NOT_FOUND["system"].format(id=system_id))
    if transitive:
        reach = await graph.transitive_dependencies(session, system_id)
    else:
        reach = await graph.direct_dependencies(session, system_id)
    return _graph(reach, paths=paths)


async def dependents(
    session: AsyncSession, node_type: str, node_id: uuid.UUID, *, paths: bool = False
) -> DependencyGraph:
    names = await graph.node_names(session, [(node_type, node_id)])
    if (node_type, node_id) not in names:
        if node_type == "vendor":
            raise VendorNotFound(_NOT_FOUND["vendor"].format(id=node_id))
        raise ComponentNotFound(_NOT_FOUND["component"].format(id=node_id))
    return _graph(await graph.transitive_dependents(session, node_type, node_id), paths=paths)


# --- CycloneDX import -------------------------------------------------------------------------


def _ref(component: Component) -> BomComponentRef:
    return BomComponentRef(id=component.id, bom_ref=component.bom_ref, name=component.name)


async def _remove(
    session: AsyncSession,
    principal: Principal,
    gone: list[Component],
    stale_edges: list[Dependency],
    *,
    refs: list[Component],
) -> tuple[list[BomEdgeRef], list[uuid.UUID]]:
    """Delete the stale edges, then the gone components with every edge and interface at either
    end (``component.deleted`` with the last state); returns what was deleted."""
    repo = ComponentsRepository(session)
    ref_of = {c.id: c.bom_ref for c in refs}

    def edge_ref(e: Dependency | EdgeEnds) -> BomEdgeRef:
        return BomEdgeRef(
            id=e.id,
            from_type=NodeType(e.from_type),
            from_id=e.from_id,
            from_bom_ref=ref_of.get(e.from_id),
            to_type=NodeType(e.to_type),
            to_id=e.to_id,
            to_bom_ref=ref_of.get(e.to_id),
            source=Source(e.source),
        )

    removed = [edge_ref(e) for e in stale_edges]
    for stale in stale_edges:
        await repo.delete(stale)
    await session.flush()
    edges_of_gone, interfaces = await repo.delete_edges_of_components([c.id for c in gone])
    removed += [edge_ref(e) for e in edges_of_gone]
    for component in gone:
        component.version += 1  # the deletion is a change: consumers order by version
        component.updated_by = principal.subject
        await _emit_component(session, COMPONENT_DELETED, component)
        await repo.delete(component)
    await session.flush()
    return removed, interfaces


async def import_bom(
    session: AsyncSession, principal: Principal, system_id: uuid.UUID, bom: ParsedBom
) -> BomImportSummary:
    """Apply a parsed BOM to a system: creates, updates (matched by bom-ref) and never
    duplicates; components and edges an earlier import recorded that this BOM no longer lists
    are deleted, hand-made ones are kept. The caller's transaction makes it all or nothing."""
    repo = ComponentsRepository(session)
    if not await repo.node_exists("system", system_id):
        raise AISystemNotFound(_NOT_FOUND["system"].format(id=system_id))
    now = utcnow()
    vendor_counts, component_counts, edge_counts = ImportCounts(), ImportCounts(), ImportCounts()

    names = list(dict.fromkeys(c.vendor for c in bom.components if c.vendor))
    vendors = await repo.vendors_by_names(names)
    new_vendors: list[Vendor] = []
    for name in names:
        if name_key(name) in vendors:
            vendor_counts.unchanged += 1
            continue
        vendor = Vendor(
            id=uuid7(),
            org_id=principal.org_id,
            version=1,
            created_at=now,
            updated_at=now,
            name=name,
            services=[],
            notes="Created by a CycloneDX import.",
        )
        repo.add(vendor)
        vendors[name_key(name)] = vendor
        new_vendors.append(vendor)
    await session.flush()
    vendor_counts.created = len(new_vendors)
    for vendor in new_vendors:
        await _emit_vendor(session, VENDOR_CREATED, vendor)

    # Lock what the last import recorded first, so two imports of one system queue here.
    previous = await repo.bom_components_of_system(system_id)
    existing = await repo.components_of_system_by_ref(
        system_id, [c.bom_ref for c in bom.components]
    )
    by_ref: dict[str, Component] = {}
    created: list[Component] = []
    updated: list[Component] = []
    for item in bom.components:
        fields: dict[str, Any] = {
            "kind": item.kind,
            "name": item.name,
            "component_version": item.version,
            "description": item.description,
            "vendor_id": vendors[name_key(item.vendor)].id if item.vendor else None,
            "model_card": item.model_card,
            "properties": item.properties,
        }
        component = existing.get(item.bom_ref)
        if component is None:
            component = Component(
                id=uuid7(),
                org_id=principal.org_id,
                version=1,
                created_at=now,
                updated_at=now,
                created_by=principal.subject,
                updated_by=principal.subject,
                system_id=system_id,
                bom_ref=item.bom_ref,
                source=Source.BOM.value,
                **fields,
            )
            repo.add(component)
            created.append(component)
        else:
            # A component recorded by hand that the BOM also lists is updated but stays
            # ``manual``: an import never removes what a person recorded.
            changes = {k: v for k, v in fields.items() if getattr(component, k) != v}
            if changes:
                for field, value in changes.items():
                    setattr(component, field, value)
                _stamp(component, principal)
                updated.append(component)
            else:
                component_counts.unchanged += 1
        by_ref[item.bom_ref] = component
    await session.flush()
    component_counts.created, component_counts.updated = len(created), len(updated)
    for component in created:
        await _emit_component(session, COMPONENT_CREATED, component)
    for component in updated:
        await _emit_component(session, COMPONENT_UPDATED, component)

    wanted = {(by_ref[a].id, by_ref[b].id) for a, b in bom.dependencies}
    # Edges an earlier import recorded (always component to component) this BOM no longer lists.
    stale_edges = [
        e for e in await repo.bom_edges_of_system(system_id) if (e.from_id, e.to_id) not in wanted
    ]
    have = await repo.existing_edges([c.id for c in by_ref.values()])
    for source_ref, target_ref in bom.dependencies:
        source, target = by_ref[source_ref], by_ref[target_ref]
        key = ("component", source.id, "component", target.id)
        if key in have:
            edge_counts.unchanged += 1
            continue
        have.add(key)
        repo.add(
            Dependency(
                id=uuid7(),
                org_id=principal.org_id,
                version=1,
                created_at=now,
                updated_at=now,
                from_type="component",
                from_id=source.id,
                to_type="component",
                to_id=target.id,
                relation="depends_on",
                source=Source.BOM.value,
                created_by=principal.subject,
            )
        )
        edge_counts.created += 1

    gone = [c for c in previous if c.bom_ref not in by_ref]
    removed_edges, removed_interfaces = await _remove(
        session, principal, gone, stale_edges, refs=[*previous, *by_ref.values()]
    )
    component_counts.removed = len(gone)
    edge_counts.removed = len(removed_edges)
    return BomImportSummary(
        system_id=system_id,
        spec_version=bom.spec_version,
        components=component_counts,
        vendors=vendor_counts,
        dependencies=edge_counts,
        created=[_ref(c) for c in created],
        updated=[_ref(c) for c in updated],
        removed=[_ref(c) for c in gone],
        removed_dependencies=removed_edges,
        removed_interfaces=removed_interfaces,
    )
