"""REST routes of the inventory's components domain: vendors, components, dependencies,
interfaces, the dependency graph and CycloneDX import."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request, Response, status
from pydantic import BaseModel

from services.inventory.components import service
from services.inventory.components.cyclonedx import MAX_BYTES, parse_bom
from services.inventory.components.errors import BomTooLarge
from services.inventory.components.models import ComponentKind
from services.inventory.components.schemas import (
    BomImportSummary,
    ComponentCreate,
    ComponentPage,
    ComponentRead,
    ComponentUpdate,
    DependencyCreate,
    DependencyGraph,
    DependencyPage,
    DependencyRead,
    InterfaceCreate,
    InterfacePage,
    InterfaceRead,
    InterfaceUpdate,
    SystemComponentsList,
    VendorCreate,
    VendorPage,
    VendorRead,
    VendorUpdate,
)
from shared.auth import EDITORS, READERS, Principal, require_roles
from shared.http import (
    IdempotencyDep,
    Paging,
    PrefilteredRouter,
    TenantSession,
    cursor_after_id,
    next_cursor,
    reject_unknown_query,
    set_etag,
)

# Every route: a misspelt filter (`?vendor=`) answers 400 naming the allowed ones instead of
# listing everything.
router = PrefilteredRouter(prefix="/v1", dependencies=[Depends(reject_unknown_query)])
Reader = Annotated[Principal, Depends(require_roles(READERS))]
Editor = Annotated[Principal, Depends(require_roles(EDITORS))]
IfMatch = Annotated[str | None, Header(description="ETag of the version you read")]
NameQuery = Annotated[
    str | None, Query(max_length=200, description="Case-insensitive part of the name")
]
Paths = Annotated[
    bool,
    Query(
        description="Also give each node's whole shortest path (`path`); without it, follow "
        "`via` back to the start"
    ),
]
Ids = Annotated[
    list[uuid.UUID] | None, Query(description="Fetch these (batch; at most 500)", max_length=500)
]

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


async def _created(
    session: TenantSession,
    principal: Principal,
    idem: IdempotencyDep,
    created: BaseModel,
    version: int,
    location: str,
) -> Response:
    return await idem.created(session, principal, created, version=version, location=location)


# --- Vendors ----------------------------------------------------------------------------------


@router.post(
    "/vendors",
    status_code=status.HTTP_201_CREATED,
    response_model=VendorRead,
    tags=["vendors"],
    summary="Record a vendor",
    responses={409: PROBLEM, 422: PROBLEM},
)
async def create_vendor(
    body: VendorCreate, principal: Editor, session: TenantSession, idem: IdempotencyDep
) -> Response:
    """Record a third party. Send `Idempotency-Key` to make retries safe."""
    if (replayed := await idem.replay(session, principal)) is not None:
        return replayed
    created = await service.create_vendor(session, principal, body)
    return await _created(
        session, principal, idem, created, created.version, f"/v1/vendors/{created.id}"
    )


@router.get("/vendors", response_model=VendorPage, tags=["vendors"], summary="List vendors")
async def list_vendors(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    name: NameQuery = None,
    id: Ids = None,
) -> VendorPage:
    items, fetched = await service.list_vendors(
        session, limit=paging.limit, after=cursor_after_id(paging), name_contains=name, ids=id or []
    )
    return VendorPage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.get(
    "/vendors/{vendor_id}",
    response_model=VendorRead,
    tags=["vendors"],
    summary="Read one vendor",
    responses={404: PROBLEM},
)
async def get_vendor(
    vendor_id: uuid.UUID, principal: Reader, session: TenantSession, response: Response
) -> VendorRead:
    vendor = await service.get_vendor(session, vendor_id)
    set_etag(response, vendor.version)
    return vendor


@router.patch(
    "/vendors/{vendor_id}",
    response_model=VendorRead,
    tags=["vendors"],
    summary="Change a vendor (send If-Match)",
    responses={404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 428: PROBLEM},
)
async def update_vendor(
    vendor_id: uuid.UUID,
    body: VendorUpdate,
    principal: Editor,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> VendorRead:
    updated = await service.update_vendor(session, principal, vendor_id, body, if_match)
    set_etag(response, updated.version)
    return updated


@router.delete(
    "/vendors/{vendor_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["vendors"],
    summary="Delete a vendor no component names (send If-Match)",
    responses={404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 428: PROBLEM},
)
async def delete_vendor(
    vendor_id: uuid.UUID, principal: Editor, session: TenantSession, if_match: IfMatch = None
) -> Response:
    await service.delete_vendor(session, principal, vendor_id, if_match)
    return Response(status_code=204)


@router.get(
    "/vendors/{vendor_id}/dependents",
    response_model=DependencyGraph,
    tags=["vendors"],
    summary="Everything that depends on a vendor, transitively",
    responses={404: PROBLEM},
)
async def vendor_dependents(
    vendor_id: uuid.UUID, principal: Reader, session: TenantSession, paths: Paths = False
) -> DependencyGraph:
    """Components from the vendor, the systems and components depending on those, and so on;
    each once, nearest first, with its depth and `via` (the node one step nearer the vendor on a
    shortest path); `paths=true` adds each whole path (read it backwards for the direction)."""
    return await service.dependents(session, "vendor", vendor_id, paths=paths)


# --- Components -------------------------------------------------------------------------------


@router.post(
    "/components",
    status_code=status.HTTP_201_CREATED,
    response_model=ComponentRead,
    tags=["components"],
    summary="Record a component",
    responses={409: PROBLEM, 422: PROBLEM},
)
async def create_component(
    body: ComponentCreate, principal: Editor, session: TenantSession, idem: IdempotencyDep
) -> Response:
    """Record a model, dataset, third-party AI service, software or (non-AI) service, optionally
    of a system and from a vendor. Send `Idempotency-Key` to make retries safe."""
    if (replayed := await idem.replay(session, principal)) is not None:
        return replayed
    created = await service.create_component(session, principal, body)
    return await _created(
        session, principal, idem, created, created.version, f"/v1/components/{created.id}"
    )


@router.get(
    "/components", response_model=ComponentPage, tags=["components"], summary="List components"
)
async def list_components(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    system_id: uuid.UUID | None = None,
    vendor_id: uuid.UUID | None = None,
    kind: ComponentKind | None = None,
    name: NameQuery = None,
    id: Ids = None,
) -> ComponentPage:
    items, fetched = await service.list_components(
        session,
        limit=paging.limit,
        after=cursor_after_id(paging),
        system_id=system_id,
        vendor_id=vendor_id,
        kind=kind.value if kind else None,
        name_contains=name,
        ids=id or [],
    )
    return ComponentPage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.get(
    "/components-by-system",
    response_model=SystemComponentsList,
    tags=["components"],
    summary="Components of many systems at once (for DataLoaders): first components and totals",
    responses={400: PROBLEM},
)
async def components_by_system(
    principal: Reader,
    session: TenantSession,
    system_id: Annotated[list[uuid.UUID], Query(min_length=1, max_length=500)],
    first: Annotated[int, Query(ge=1, le=100, description="Components per system")] = 50,
) -> SystemComponentsList:
    """One entry per `system_id`, in the order asked: its first `first` components (oldest
    first) and `total_count`. One database query whatever the number of systems; a system
    unknown in your organisation answers an empty entry."""
    items = await service.components_by_system(session, system_id, first=first)
    return SystemComponentsList(items=items)


@router.get(
    "/components/{component_id}",
    response_model=ComponentRead,
    tags=["components"],
    summary="Read one component",
    responses={404: PROBLEM},
)
async def get_component(
    component_id: uuid.UUID, principal: Reader, session: TenantSession, response: Response
) -> ComponentRead:
    component = await service.get_component(session, component_id)
    set_etag(response, component.version)
    return component


@router.patch(
    "/components/{component_id}",
    response_model=ComponentRead,
    tags=["components"],
    summary="Change a component (send If-Match)",
    responses={404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 422: PROBLEM, 428: PROBLEM},
)
async def update_component(
    component_id: uuid.UUID,
    body: ComponentUpdate,
    principal: Editor,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> ComponentRead:
    updated = await service.update_component(session, principal, component_id, body, if_match)
    set_etag(response, updated.version)
    return updated


@router.delete(
    "/components/{component_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["components"],
    summary="Delete a component and its edges (send If-Match)",
    responses={404: PROBLEM, 412: PROBLEM, 428: PROBLEM},
)
async def delete_component(
    component_id: uuid.UUID, principal: Editor, session: TenantSession, if_match: IfMatch = None
) -> Response:
    await service.delete_component(session, principal, component_id, if_match)
    return Response(status_code=204)


@router.get(
    "/components/{component_id}/dependents",
    response_model=DependencyGraph,
    tags=["components"],
    summary="Everything that depends on a component, transitively",
    responses={404: PROBLEM},
)
async def component_dependents(
    component_id: uuid.UUID, principal: Reader, session: TenantSession, paths: Paths = False
) -> DependencyGraph:
    """Everything depending on the component, each once, nearest first, with its depth and
    `via`; `paths=true` adds each whole shortest path."""
    return await service.dependents(session, "component", component_id, paths=paths)


# --- Dependencies -----------------------------------------------------------------------------


@router.post(
    "/dependencies",
    status_code=status.HTTP_201_CREATED,
    response_model=DependencyRead,
    tags=["dependencies"],
    summary="Record that a system or component depends on another",
    responses={409: PROBLEM, 422: PROBLEM},
)
async def create_dependency(
    body: DependencyCreate, principal: Editor, session: TenantSession, idem: IdempotencyDep
) -> Response:
    if (replayed := await idem.replay(session, principal)) is not None:
        return replayed
    created = await service.create_dependency(session, principal, body)
    return await _created(
        session, principal, idem, created, created.version, f"/v1/dependencies/{created.id}"
    )


@router.get(
    "/dependencies",
    response_model=DependencyPage,
    tags=["dependencies"],
    summary="List dependency edges",
)
async def list_dependencies(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    from_id: Annotated[uuid.UUID | None, Query(description="Edges leaving this node")] = None,
    to_id: Annotated[uuid.UUID | None, Query(description="Edges arriving at this node")] = None,
) -> DependencyPage:
    items, fetched = await service.list_dependencies(
        session, limit=paging.limit, after=cursor_after_id(paging), from_id=from_id, to_id=to_id
    )
    return DependencyPage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.get(
    "/dependencies/{dependency_id}",
    response_model=DependencyRead,
    tags=["dependencies"],
    summary="Read one dependency edge",
    responses={404: PROBLEM},
)
async def get_dependency(
    dependency_id: uuid.UUID, principal: Reader, session: TenantSession
) -> DependencyRead:
    return await service.get_dependency(session, dependency_id)


@router.delete(
    "/dependencies/{dependency_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["dependencies"],
    summary="Delete a dependency edge",
    responses={404: PROBLEM},
)
async def delete_dependency(
    dependency_id: uuid.UUID, principal: Editor, session: TenantSession
) -> Response:
    await service.delete_dependency(session, dependency_id)
    return Response(status_code=204)


# --- Interfaces -------------------------------------------------------------------------------


@router.post(
    "/interfaces",
    status_code=status.HTTP_201_CREATED,
    response_model=InterfaceRead,
    tags=["interfaces"],
    summary="Record an interface between systems or components",
    responses={409: PROBLEM, 422: PROBLEM},
)
async def create_interface(
    body: InterfaceCreate, principal: Editor, session: TenantSession, idem: IdempotencyDep
) -> Response:
    if (replayed := await idem.replay(session, principal)) is not None:
        return replayed
    created = await service.create_interface(session, principal, body)
    return await _created(
        session, principal, idem, created, created.version, f"/v1/interfaces/{created.id}"
    )


@router.get(
    "/interfaces", response_model=InterfacePage, tags=["interfaces"], summary="List interfaces"
)
async def list_interfaces(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    node_id: Annotated[
        uuid.UUID | None, Query(description="Interfaces at either end of this node")
    ] = None,
) -> InterfacePage:
    items, fetched = await service.list_interfaces(
        session, limit=paging.limit, after=cursor_after_id(paging), node_id=node_id
    )
    return InterfacePage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.get(
    "/interfaces/{interface_id}",
    response_model=InterfaceRead,
    tags=["interfaces"],
    summary="Read one interface",
    responses={404: PROBLEM},
)
async def get_interface(
    interface_id: uuid.UUID, principal: Reader, session: TenantSession, response: Response
) -> InterfaceRead:
    interface = await service.get_interface(session, interface_id)
    set_etag(response, interface.version)
    return interface


@router.patch(
    "/interfaces/{interface_id}",
    response_model=InterfaceRead,
    tags=["interfaces"],
    summary="Change an interface (send If-Match)",
    responses={404: PROBLEM, 412: PROBLEM, 428: PROBLEM},
)
async def update_interface(
    interface_id: uuid.UUID,
    body: InterfaceUpdate,
    principal: Editor,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> InterfaceRead:
    updated = await service.update_interface(session, principal, interface_id, body, if_match)
    set_etag(response, updated.version)
    return updated


@router.delete(
    "/interfaces/{interface_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["interfaces"],
    summary="Delete an interface (send If-Match)",
    responses={404: PROBLEM, 412: PROBLEM, 428: PROBLEM},
)
async def delete_interface(
    interface_id: uuid.UUID, principal: Editor, session: TenantSession, if_match: IfMatch = None
) -> Response:
    await service.delete_interface(session, interface_id, if_match)
    return Response(status_code=204)


# --- Graph queries and import on a system -----------------------------------------------------


@router.get(
    "/ai-systems/{system_id}/dependencies",
    response_model=DependencyGraph,
    tags=["ai-systems"],
    summary="What an AI system depends on",
    responses={404: PROBLEM},
)
async def system_dependencies(
    system_id: uuid.UUID,
    principal: Reader,
    session: TenantSession,
    transitive: Annotated[
        bool, Query(description="Follow dependencies of dependencies (cycle-safe)")
    ] = True,
    paths: Paths = False,
) -> DependencyGraph:
    """Every system, component and vendor the system depends on — its own components, explicit
    dependency edges, and components' vendors — each once, nearest first, with its depth and
    `via` (the node it is first reached from on a shortest path from the system). `paths=true`
    adds each whole shortest path (costlier on deep graphs)."""
    return await service.system_dependencies(session, system_id, transitive=transitive, paths=paths)


_BOM_BODY: dict[str, Any] = {
    "content": {
        "application/vnd.cyclonedx+json": {"schema": {"type": "object"}},
        "application/json": {
            "schema": {"type": "object"},
            "example": {
                "bomFormat": "CycloneDX",
                "specVersion": "1.7",
                "components": [
                    {
                        "bom-ref": "model-1",
                        "type": "machine-learning-model",
                        "name": "resume-ranker",
                        "supplier": {"name": "Acme AI"},
                        "modelCard": {"modelParameters": {"task": "ranking"}},
                    },
                    {"bom-ref": "data-1", "type": "data", "name": "applications-2025"},
                ],
                "dependencies": [{"ref": "model-1", "dependsOn": ["data-1"]}],
            },
        },
    },
    "required": True,
}


@router.post(
    "/ai-systems/{system_id}/bom",
    response_model=BomImportSummary,
    tags=["ai-systems"],
    summary="Import a CycloneDX ML-BOM (JSON, spec 1.4 to 1.7) into a system",
    openapi_extra={"requestBody": _BOM_BODY},
    responses={400: PROBLEM, 404: PROBLEM, 413: PROBLEM, 422: PROBLEM},
)
async def import_bom(
    system_id: uuid.UUID, request: Request, principal: Editor, session: TenantSession
) -> BomImportSummary:
    """Models (with their model card), datasets and other software become components of the
    system, suppliers and manufacturers vendors, `dependencies` edges. CycloneDX `specVersion`
    1.4, 1.5, 1.6 and 1.7 are read; any other answers 422 `bom-spec-version-unsupported` listing
    the supported ones. Re-importing updates by `bom-ref` and never duplicates; components and
    edges an earlier import recorded that the new BOM no longer lists are deleted (with
    `component.deleted` events) and listed in `removed` / `removed_dependencies`; components
    and edges recorded by hand are kept. The import is all or nothing."""
    received = bytearray()
    async for chunk in request.stream():
        received.extend(chunk)
        if len(received) > MAX_BYTES:
            raise BomTooLarge(f"The BOM is larger than {MAX_BYTES} bytes.")
    bom = parse_bom(bytes(received))
    return await service.import_bom(session, principal, system_id, bom)
