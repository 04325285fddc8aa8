"""Request and response bodies of components, vendors, dependencies and interfaces."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.inventory.components.models import (
    ComponentKind,
    Direction,
    NodeType,
    Relation,
    Source,
)
from shared.http import Page

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
LongText = Annotated[str, StringConstraints(max_length=10_000)]
Labels = Annotated[list[ShortText], Field(max_length=100)]


class VendorCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "OpenAI",
                    "services": ["LLM API"],
                    "website": "https://openai.com",
                    "contact": "vendor-management@example.com",
                    "next_review_at": "2027-06-01T00:00:00Z",
                }
            ]
        },
    )

    name: Name
    services: Labels = Field(default_factory=list, description="Services the vendor provides")
    website: ShortText | None = None
    contact: ShortText | None = None
    last_reviewed_at: datetime | None = None
    next_review_at: datetime | None = None
    notes: LongText = ""


class VendorUpdate(BaseModel):
    """A partial update: only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    services: Labels | None = None
    website: ShortText | None = None
    contact: ShortText | None = None
    last_reviewed_at: datetime | None = None
    next_review_at: datetime | None = None
    notes: LongText | None = None


class VendorRead(BaseModel):
    """The full state of a vendor; also the data of ``aims.inventory.vendor.*`` events."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    name: str
    services: list[str]
    website: str | None
    contact: str | None
    last_reviewed_at: datetime | None
    next_review_at: datetime | None
    notes: str
    version: int = Field(description="Increases by one on every change; the ETag")
    created_at: datetime
    updated_at: datetime


VendorPage = Page[VendorRead]


class ComponentCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "model",
                    "name": "resume-ranker",
                    "component_version": "2.1.0",
                    "description": "Gradient-boosted ranking model",
                    "system_id": "0192f0c4-7a1e-7c3b-9a55-3b1d2e4f5a6b",
                    "model_card": {"modelParameters": {"task": "ranking"}},
                }
            ]
        },
    )

    kind: ComponentKind
    name: Name
    component_version: ShortText | None = Field(
        default=None, description="The component's own release (not the row version)"
    )
    description: LongText = ""
    vendor_id: uuid.UUID | None = None
    system_id: uuid.UUID | None = Field(default=None, description="The system it belongs to")
    bom_ref: ShortText | None = Field(
        default=None, description="CycloneDX bom-ref; unique within its system"
    )
    model_card: dict[str, Any] | None = Field(
        default=None,
        description="CycloneDX modelCard: modelParameters, quantitativeAnalysis, considerations",
    )
    properties: dict[str, Any] = Field(default_factory=dict)


class ComponentUpdate(BaseModel):
    """A partial update: only the fields sent change (send null to clear a nullable field)."""

    model_config = ConfigDict(extra="forbid")

    kind: ComponentKind | None = None
    name: Name | None = None
    component_version: ShortText | None = None
    description: LongText | None = None
    vendor_id: uuid.UUID | None = None
    system_id: uuid.UUID | None = None
    bom_ref: ShortText | None = None
    model_card: dict[str, Any] | None = None
    properties: dict[str, Any] | None = None


class ComponentRead(BaseModel):
    """The full state of a component; also the data of ``aims.inventory.component.*`` events."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    kind: ComponentKind
    name: str
    component_version: str | None
    description: str
    vendor_id: uuid.UUID | None
    system_id: uuid.UUID | None
    bom_ref: str | None
    source: Source = Field(
        description="`bom` when the system's CycloneDX BOM keeps it (a re-import that no longer "
        "lists it removes it), `manual` when recorded by hand (imports never remove it)"
    )
    model_card: dict[str, Any] | None
    properties: dict[str, Any]
    version: int = Field(description="Increases by one on every change; the ETag")
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


ComponentPage = Page[ComponentRead]


class SystemComponents(BaseModel):
    """One system's components: the first ones (oldest first) and how many it has."""

    system_id: uuid.UUID
    total_count: int
    items: list[ComponentRead]


class SystemComponentsList(BaseModel):
    items: list[SystemComponents] = Field(description="One entry per system asked, in that order")


class DependencyCreate(BaseModel):
    """``from`` depends on ``to``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "from_type": "component",
                    "from_id": "0192f0c4-7a1e-7c3b-9a55-3b1d2e4f5a6b",
                    "to_type": "component",
                    "to_id": "0192f0c4-7a1e-7c3b-9a55-3b1d2e4f5a6c",
                    "relation": "depends_on",
                }
            ]
        },
    )

    from_type: NodeType
    from_id: uuid.UUID
    to_type: NodeType
    to_id: uuid.UUID
    relation: Relation = Relation.DEPENDS_ON


class DependencyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    from_type: NodeType
    from_id: uuid.UUID
    to_type: NodeType
    to_id: uuid.UUID
    relation: Relation
    source: Source = Field(description="`bom` when a CycloneDX import recorded it, else `manual`")
    version: int
    created_at: datetime
    created_by: str


DependencyPage = Page[DependencyRead]


class InterfaceCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "from_type": "system",
                    "from_id": "0192f0c4-7a1e-7c3b-9a55-3b1d2e4f5a6b",
                    "to_type": "component",
                    "to_id": "0192f0c4-7a1e-7c3b-9a55-3b1d2e4f5a6c",
                    "direction": "out",
                    "data_exchanged": ["applicant CVs"],
                    "protocol": "HTTPS/JSON",
                }
            ]
        },
    )

    from_type: NodeType
    from_id: uuid.UUID
    to_type: NodeType
    to_id: uuid.UUID
    direction: Direction
    data_exchanged: Labels = Field(default_factory=list)
    protocol: ShortText | None = None
    description: LongText = ""


class InterfaceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    direction: Direction | None = None
    data_exchanged: Labels | None = None
    protocol: ShortText | None = None
    description: LongText | None = None


class InterfaceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    from_type: NodeType
    from_id: uuid.UUID
    to_type: NodeType
    to_id: uuid.UUID
    direction: Direction
    data_exchanged: list[str]
    protocol: str | None
    description: str
    version: int
    created_at: datetime
    updated_at: datetime


InterfacePage = Page[InterfaceRead]


class GraphNode(BaseModel):
    type: str = Field(description="system, component or vendor")
    id: uuid.UUID
    name: str


class GraphNodeRef(BaseModel):
    type: str = Field(description="system, component or vendor")
    id: uuid.UUID


class DependencyPath(BaseModel):
    node: GraphNode = Field(description="The node reached")
    depth: int = Field(description="Edges between the start and the node")
    via: GraphNodeRef = Field(
        description="The node it is reached from on a shortest path (the start at depth 1); "
        "follow `via` through the items back to the start for the whole path"
    )
    path: list[GraphNode] | None = Field(
        default=None,
        description="Shortest path, from the start to the node; only with `paths=true`",
    )


class DependencyGraph(BaseModel):
    start: GraphNode
    items: list[DependencyPath]


class ImportCounts(BaseModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0


class BomComponentRef(BaseModel):
    id: uuid.UUID
    bom_ref: str | None
    name: str


class BomEdgeRef(BaseModel):
    """A dependency edge a re-import removed; ``*_bom_ref`` when that end is a component with
    one."""

    id: uuid.UUID
    from_type: NodeType
    from_id: uuid.UUID
    from_bom_ref: str | None
    to_type: NodeType
    to_id: uuid.UUID
    to_bom_ref: str | None
    source: Source


class BomImportSummary(BaseModel):
    system_id: uuid.UUID
    spec_version: str
    components: ImportCounts
    vendors: ImportCounts
    dependencies: ImportCounts
    created: list[BomComponentRef] = Field(description="Components the import recorded")
    updated: list[BomComponentRef] = Field(description="Components whose facts it changed")
    removed: list[BomComponentRef] = Field(
        description="Components an earlier import of this system's BOM recorded and this BOM no "
        "longer lists: deleted (with `component.deleted` events) together with their edges and "
        "interfaces. Components recorded by hand are never removed."
    )
    removed_dependencies: list[BomEdgeRef] = Field(
        description="Edges deleted: those an earlier import recorded and this BOM no longer "
        "lists, and any edge of a removed component"
    )
    removed_interfaces: list[uuid.UUID] = Field(
        description="Interfaces deleted because a component at one end was removed"
    )
