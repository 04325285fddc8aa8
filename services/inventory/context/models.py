"""The organisation's context (ISO/IEC 42001 4.1, 4.2): issues, interested parties, AI roles."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.inventory.base import Base
from shared.db import TenantColumns, utcnow, uuid7


class ContextIssue(TenantColumns, Base):
    """An internal or external issue relevant to the AIMS (4.1), tagged PESTLE or SWOT."""

    __tablename__ = "context_issue"
    __table_args__ = (
        sa.Index("ix_context_issue_org_review", "org_id", "next_review_at"),
        sa.CheckConstraint("kind IN ('internal', 'external')", name="kind"),
        sa.CheckConstraint("framework IN ('pestle', 'swot')", name="framework"),
    )

    kind: Mapped[str] = mapped_column(sa.Text)
    framework: Mapped[str] = mapped_column(sa.Text)
    category: Mapped[str] = mapped_column(sa.Text)
    title: Mapped[str] = mapped_column(sa.Text)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    impact: Mapped[str] = mapped_column(sa.Text, default="")
    owner: Mapped[str | None] = mapped_column(sa.Text)
    next_review_at: Mapped[datetime | None] = mapped_column()
    created_by: Mapped[str] = mapped_column(sa.Text)
    updated_by: Mapped[str] = mapped_column(sa.Text)


class InterestedParty(TenantColumns, Base):
    """Someone with requirements on the AIMS (4.2), and whether the AIMS addresses each."""

    __tablename__ = "interested_party"
    __table_args__ = (sa.Index("ix_interested_party_org_review", "org_id", "next_review_at"),)

    name: Mapped[str] = mapped_column(sa.Text)
    type: Mapped[str] = mapped_column(sa.Text)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    requirements: Mapped[list[Any]] = mapped_column(default=list)
    owner: Mapped[str | None] = mapped_column(sa.Text)
    next_review_at: Mapped[datetime | None] = mapped_column()
    created_by: Mapped[str] = mapped_column(sa.Text)
    updated_by: Mapped[str] = mapped_column(sa.Text)


class OrganisationAIRoles(Base):
    """The organisation's AI roles overall (one row per organisation)."""

    __tablename__ = "organisation_ai_roles"

    org_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    roles: Mapped[list[str]] = mapped_column(default=list)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    next_review_at: Mapped[datetime | None] = mapped_column()
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(sa.Text)


class ContextChange(Base):
    """One change of one context entity: who, when, and each field's old and new value."""

    __tablename__ = "context_change"
    __table_args__ = (
        sa.Index("ix_context_change_entity", "org_id", "entity_type", "entity_id", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    org_id: Mapped[uuid.UUID] = mapped_column()
    entity_type: Mapped[str] = mapped_column(sa.Text)
    entity_id: Mapped[uuid.UUID] = mapped_column()
    version: Mapped[int] = mapped_column()
    action: Mapped[str] = mapped_column(sa.Text)
    changed_by: Mapped[str] = mapped_column(sa.Text)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)
