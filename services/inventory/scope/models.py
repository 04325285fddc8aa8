"""The scope of the AIMS (ISO/IEC 42001 4.3), in versions: draft → approved → superseded."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.inventory.base import Base
from shared.db import TenantColumns


class ScopeVersion(TenantColumns, Base):
    __tablename__ = "scope_version"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "number", name="uq_scope_version_org_number"),
        # Exactly one current (approved) version per organisation.
        sa.Index(
            "uq_scope_version_one_approved",
            "org_id",
            unique=True,
            postgresql_where=sa.text("status = 'approved'"),
        ),
        sa.CheckConstraint("status IN ('draft', 'approved', 'superseded')", name="status"),
    )

    number: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(sa.Text, default="draft")
    statement: Mapped[str] = mapped_column(sa.Text, default="")
    activities: Mapped[list[Any]] = mapped_column(default=list)
    locations: Mapped[list[Any]] = mapped_column(default=list)
    departments: Mapped[list[Any]] = mapped_column(default=list)
    systems: Mapped[list[Any]] = mapped_column(default=list)
    based_on_id: Mapped[uuid.UUID | None] = mapped_column()
    created_by: Mapped[str] = mapped_column(sa.Text)
    updated_by: Mapped[str] = mapped_column(sa.Text)
    approved_by: Mapped[str | None] = mapped_column(sa.Text)
    approved_at: Mapped[datetime | None] = mapped_column()
    superseded_at: Mapped[datetime | None] = mapped_column()
