"""The register of AI systems."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.inventory.base import Base
from shared.db import TenantColumns


class AISystem(TenantColumns, Base):
    __tablename__ = "ai_system"
    __table_args__ = (sa.Index("ix_ai_system_org_name", "org_id", "name"),)

    name: Mapped[str] = mapped_column(sa.Text)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    owner: Mapped[str | None] = mapped_column(sa.Text)
    business_function: Mapped[str | None] = mapped_column(sa.Text)
    lifecycle_stage: Mapped[str] = mapped_column(sa.Text, default="idea")
    created_by: Mapped[str] = mapped_column(sa.Text)
    updated_by: Mapped[str] = mapped_column(sa.Text)
