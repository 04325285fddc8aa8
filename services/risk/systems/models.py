"""The risk service's projection of the inventory's AI systems.

It keeps the facts risk work depends on (purpose, data, sector, roles, lifecycle, scope), so that
a change to any of them can mark the system's risks for review and ask for reclassification.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.risk.base import Base
from shared.db import utcnow
from shared.projections import SystemProjectionColumns


class SystemProjection(SystemProjectionColumns, Base):
    """What the risk service knows of an AI system, kept from ``aims.inventory.system.*``."""

    __tablename__ = "system"

    intended_purpose: Mapped[str | None] = mapped_column(sa.Text)
    description: Mapped[str | None] = mapped_column(sa.Text)
    sector: Mapped[str | None] = mapped_column(sa.Text)
    data_inputs: Mapped[list[Any]] = mapped_column(default=list)
    ai_roles: Mapped[list[str]] = mapped_column(default=list)
    affected_stakeholders: Mapped[list[str]] = mapped_column(default=list)
    # From ``aims.inventory.system_scope.changed`` (via ``scope_membership``): None until a
    # scope version that changed this system's membership has been approved.
    in_scope: Mapped[bool | None]
    scope_version: Mapped[int | None]
    # Who supplies it (the SoA's A.10.3 proposal): the vendor, and who built it.
    vendor_id: Mapped[uuid.UUID | None]
    provenance: Mapped[str | None] = mapped_column(sa.Text)


class ScopeMembershipProjection(Base):
    """A system's scope membership, kept from ``aims.inventory.system_scope.changed`` apart from
    :class:`SystemProjection`: a membership that arrives before the system's first
    ``system.*`` event is kept here and copied into the system's row when that row is made."""

    __tablename__ = "scope_membership"

    system_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    in_scope: Mapped[bool]
    scope_version: Mapped[int]
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrganisationAIRolesProjection(Base):
    """The organisation-level AI roles, kept from ``aims.inventory.organisation_ai_roles.updated``
    (the SoA's proposals start from them)."""

    __tablename__ = "organisation_ai_roles"

    org_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    roles: Mapped[list[str]] = mapped_column(default=list)
    source_version: Mapped[int]
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)
