"""Components of AI systems, the vendors they come from, and the edges between them.

The dependency graph has three kinds of node: ``system`` (an :class:`AISystem`), ``component``
and ``vendor``. Its edges are the explicit :class:`Dependency` rows (between systems and
components) plus two implicit ones kept by the rows themselves: a system depends on each
component whose ``system_id`` names it, and a component depends on its ``vendor_id``.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, validates

from services.inventory.base import Base
from services.inventory.systems import models as _systems  # noqa: F401  (ai_system FK target)
from shared.db import TenantColumns
from shared.text import name_key


class ComponentKind(enum.StrEnum):
    MODEL = "model"
    DATASET = "dataset"
    THIRD_PARTY_AI_SERVICE = "third_party_ai_service"
    SOFTWARE = "software"
    # A non-AI service inside the AIMS boundary (the "overlooked microservice").
    SERVICE = "service"


class Source(enum.StrEnum):
    """Who keeps a component or edge: a person (``manual``) or the system's CycloneDX BOM
    (``bom``: re-importing a BOM that no longer lists it removes it)."""

    MANUAL = "manual"
    BOM = "bom"


class NodeType(enum.StrEnum):
    SYSTEM = "system"
    COMPONENT = "component"


class Relation(enum.StrEnum):
    DEPENDS_ON = "depends_on"
    PROVIDES = "provides"
    INTERFACE = "interface"


class Direction(enum.StrEnum):
    IN = "in"
    OUT = "out"
    BOTH = "both"


def _values(e: type[enum.StrEnum]) -> str:
    return ", ".join(f"'{m.value}'" for m in e)


class Vendor(TenantColumns, Base):
    """A third party that provides components or services."""

    __tablename__ = "vendor"
    __table_args__ = (sa.Index("uq_vendor_org_name_key", "org_id", "name_key", unique=True),)

    name: Mapped[str] = mapped_column(sa.Text)
    # ``shared.text.name_key(name)``, set whenever the name is: what uniqueness compares.
    name_key: Mapped[str] = mapped_column(sa.Text)
    services: Mapped[list[str]] = mapped_column(default=list)
    website: Mapped[str | None] = mapped_column(sa.Text)
    contact: Mapped[str | None] = mapped_column(sa.Text)
    last_reviewed_at: Mapped[datetime | None] = mapped_column()
    next_review_at: Mapped[datetime | None] = mapped_column()
    notes: Mapped[str] = mapped_column(sa.Text, default="")

    @validates("name")
    def _keep_name_key(self, _key: str, name: str) -> str:
        self.name_key = name_key(name)
        return name


class Component(TenantColumns, Base):
    """A model, dataset, third-party AI service, software or service of a system."""

    __tablename__ = "component"
    __table_args__ = (
        sa.CheckConstraint(f"kind IN ({_values(ComponentKind)})", name="kind"),
        sa.CheckConstraint(f"source IN ({_values(Source)})", name="source"),
        # bom-refs are unique within one BOM, and a BOM describes one system.
        sa.UniqueConstraint("org_id", "system_id", "bom_ref", name="uq_component_bom_ref"),
        sa.Index("ix_component_system_id", "system_id"),
        sa.Index("ix_component_vendor_id", "vendor_id"),
    )

    kind: Mapped[str] = mapped_column(sa.Text)
    name: Mapped[str] = mapped_column(sa.Text)
    # ``version`` is the row version (the ETag); this is the component's own release.
    component_version: Mapped[str | None] = mapped_column(sa.Text)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    vendor_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("vendor.id", ondelete="RESTRICT")
    )
    system_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("ai_system.id", ondelete="CASCADE")
    )
    bom_ref: Mapped[str | None] = mapped_column(sa.Text)
    source: Mapped[str] = mapped_column(
        sa.Text, default=Source.MANUAL.value, server_default=Source.MANUAL.value
    )
    model_card: Mapped[dict[str, Any] | None] = mapped_column()
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[str] = mapped_column(sa.Text)
    updated_by: Mapped[str] = mapped_column(sa.Text)


class Dependency(TenantColumns, Base):
    """``from`` depends on ``to`` (``relation`` says how)."""

    __tablename__ = "dependency"
    __table_args__ = (
        sa.CheckConstraint(f"from_type IN ({_values(NodeType)})", name="from_type"),
        sa.CheckConstraint(f"to_type IN ({_values(NodeType)})", name="to_type"),
        sa.CheckConstraint(f"relation IN ({_values(Relation)})", name="relation"),
        sa.CheckConstraint(f"source IN ({_values(Source)})", name="source"),
        sa.CheckConstraint("NOT (from_type = to_type AND from_id = to_id)", name="not_self"),
        sa.UniqueConstraint(
            "org_id", "from_type", "from_id", "to_type", "to_id", name="uq_dependency_edge"
        ),
        sa.Index("ix_dependency_from", "from_type", "from_id"),
        sa.Index("ix_dependency_to", "to_type", "to_id"),
    )

    from_type: Mapped[str] = mapped_column(sa.Text)
    from_id: Mapped[uuid.UUID] = mapped_column()
    to_type: Mapped[str] = mapped_column(sa.Text)
    to_id: Mapped[uuid.UUID] = mapped_column()
    relation: Mapped[str] = mapped_column(sa.Text, default=Relation.DEPENDS_ON.value)
    source: Mapped[str] = mapped_column(
        sa.Text, default=Source.MANUAL.value, server_default=Source.MANUAL.value
    )
    created_by: Mapped[str] = mapped_column(sa.Text)


class Interface(TenantColumns, Base):
    """A data flow between two systems or components (``direction`` as seen from ``from``)."""

    __tablename__ = "interface"
    __table_args__ = (
        sa.CheckConstraint(f"from_type IN ({_values(NodeType)})", name="from_type"),
        sa.CheckConstraint(f"to_type IN ({_values(NodeType)})", name="to_type"),
        sa.CheckConstraint(f"direction IN ({_values(Direction)})", name="direction"),
        sa.Index("ix_interface_from", "from_type", "from_id"),
        sa.Index("ix_interface_to", "to_type", "to_id"),
    )

    from_type: Mapped[str] = mapped_column(sa.Text)
    from_id: Mapped[uuid.UUID] = mapped_column()
    to_type: Mapped[str] = mapped_column(sa.Text)
    to_id: Mapped[uuid.UUID] = mapped_column()
    direction: Mapped[str] = mapped_column(sa.Text)
    data_exchanged: Mapped[list[str]] = mapped_column(default=list)
    protocol: Mapped[str | None] = mapped_column(sa.Text)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    created_by: Mapped[str] = mapped_column(sa.Text)
    updated_by: Mapped[str] = mapped_column(sa.Text)
