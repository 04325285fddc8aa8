"""The register of AI systems, its change history and the organisation's custom fields."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from services.inventory.base import Base
from shared.db import TenantColumns, utcnow, uuid7

# English stemming so that "screening" finds "screen"; the two-argument form is immutable,
# which a generated column needs.
SEARCH_DOCUMENT = (
    "to_tsvector('english'::regconfig, coalesce(name, '') || ' ' || coalesce(description, '') "
    "|| ' ' || coalesce(intended_purpose, ''))"
)


class AISystem(TenantColumns, Base):
    __tablename__ = "ai_system"
    __table_args__ = (
        sa.Index("ix_ai_system_org_name", "org_id", "name", "id"),
        sa.Index("ix_ai_system_org_created", "org_id", "created_at", "id"),
        sa.Index("ix_ai_system_org_updated", "org_id", "updated_at", "id"),
        sa.Index("ix_ai_system_org_review", "org_id", "next_review_at", "id"),
        sa.Index("ix_ai_system_org_owner", "org_id", "owner"),
        sa.Index("ix_ai_system_org_vendor", "org_id", "vendor_id"),
        sa.Index("ix_ai_system_search", "search", postgresql_using="gin"),
        sa.Index("ix_ai_system_ai_roles", "ai_roles", postgresql_using="gin"),
    )

    name: Mapped[str] = mapped_column(sa.Text)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    intended_purpose: Mapped[str | None] = mapped_column(sa.Text)
    owner: Mapped[str | None] = mapped_column(sa.Text)
    business_function: Mapped[str | None] = mapped_column(sa.Text)
    lifecycle_stage: Mapped[str] = mapped_column(sa.Text, default="idea")
    provenance: Mapped[str | None] = mapped_column(sa.Text)
    vendor_id: Mapped[uuid.UUID | None] = mapped_column()
    data_inputs: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    sector: Mapped[str | None] = mapped_column(sa.Text)
    affected_stakeholders: Mapped[list[str]] = mapped_column(ARRAY(sa.Text), default=list)
    human_oversight: Mapped[str | None] = mapped_column(sa.Text)
    ai_roles: Mapped[list[str]] = mapped_column(ARRAY(sa.Text), default=list)
    next_review_at: Mapped[date | None] = mapped_column(sa.Date)
    last_reviewed_at: Mapped[date | None] = mapped_column(sa.Date)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    in_scope: Mapped[bool | None] = mapped_column()
    eu_ai_act_tier: Mapped[str | None] = mapped_column(sa.Text)
    risk_level: Mapped[str | None] = mapped_column(sa.Text)
    classification_version: Mapped[int | None] = mapped_column()
    search: Mapped[str] = mapped_column(
        TSVECTOR, sa.Computed(SEARCH_DOCUMENT, persisted=True), deferred=True
    )
    created_by: Mapped[str] = mapped_column(sa.Text)
    updated_by: Mapped[str] = mapped_column(sa.Text)


class AISystemChange(Base):
    """One version of a system: who changed what, written in the change's own transaction."""

    __tablename__ = "ai_system_change"
    __table_args__ = (sa.UniqueConstraint("system_id", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    org_id: Mapped[uuid.UUID] = mapped_column()
    system_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("ai_system.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column()
    changed_by: Mapped[str] = mapped_column(sa.Text)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB)


class CustomField(TenantColumns, Base):
    """A field an organisation adds to its register (typed, optionally required)."""

    __tablename__ = "custom_field"
    __table_args__ = (sa.UniqueConstraint("org_id", "key"),)

    key: Mapped[str] = mapped_column(sa.Text)
    label: Mapped[str] = mapped_column(sa.Text)
    type: Mapped[str] = mapped_column(sa.Text)
    choices: Mapped[list[str]] = mapped_column(JSONB, default=list)
    required: Mapped[bool] = mapped_column(default=False)
