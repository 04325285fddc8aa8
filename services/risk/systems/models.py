"""The risk service's projection of the inventory's AI systems.

It keeps the facts risk work depends on (purpose, data, sector, roles, lifecycle, scope), so that
a change to any of them can mark the system's risks for review and ask for reclassification.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.risk.base import Base
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
    # From ``aims.inventory.scope.changed``: None until a scope version has been approved.
    in_scope: Mapped[bool | None]
    scope_version: Mapped[int | None]
