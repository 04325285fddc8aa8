"""Tables of the risk register: versioned matrices, review cadences, risks and their history."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.risk.base import Base
from shared.db import TenantColumns, utcnow, uuid7


class RiskMatrixVersion(Base):
    """One immutable version of an organisation's risk matrix (``number`` counts from 1)."""

    __tablename__ = "risk_matrix"
    __table_args__ = (sa.UniqueConstraint("org_id", "number"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    org_id: Mapped[uuid.UUID]
    number: Mapped[int]
    preset: Mapped[str | None] = mapped_column(sa.Text)
    definition: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.Text)


class RiskReviewCadence(Base):
    """How many days after an assessment each level is due for review (one row per org)."""

    __tablename__ = "risk_review_cadence"

    org_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    days_by_level: Mapped[dict[str, Any]]
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(sa.Text)


class Risk(TenantColumns, Base):
    """An entry of the AI risk register (ISO/IEC 42001 6.1.2, 8.2)."""

    __tablename__ = "risk"

    system_id: Mapped[uuid.UUID | None]
    title: Mapped[str] = mapped_column(sa.Text)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    domain_id: Mapped[str] = mapped_column(sa.Text)
    subdomain_id: Mapped[str] = mapped_column(sa.Text)
    entity: Mapped[str] = mapped_column(sa.Text)
    intent: Mapped[str] = mapped_column(sa.Text)
    timing: Mapped[str] = mapped_column(sa.Text)
    affected_stakeholders: Mapped[list[str]] = mapped_column(default=list)
    lifecycle_stage: Mapped[str | None] = mapped_column(sa.Text)
    fundamental_rights: Mapped[bool] = mapped_column(default=False)
    # Scoring: positions on the scales of matrix version ``matrix_version`` (1-based).
    matrix_version: Mapped[int]
    likelihood: Mapped[int]
    severity: Mapped[int]
    inherent_level: Mapped[str] = mapped_column(sa.Text)
    inherent_rank: Mapped[int]
    residual_likelihood: Mapped[int | None]
    residual_severity: Mapped[int | None]
    residual_level: Mapped[str | None] = mapped_column(sa.Text)
    residual_rank: Mapped[int | None]
    assessed_at: Mapped[datetime]
    next_review_at: Mapped[datetime | None]
    # Treatment (ISO/IEC 42001 6.1.3).
    treatment: Mapped[str | None] = mapped_column(sa.Text)
    treatment_plan: Mapped[str | None] = mapped_column(sa.Text)
    owner: Mapped[str | None] = mapped_column(sa.Text)
    due_date: Mapped[date | None]
    control_ids: Mapped[list[str]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(sa.Text, default="open")
    status_before_review: Mapped[str | None] = mapped_column(sa.Text)
    above_tolerance: Mapped[bool] = mapped_column(default=False)
    missing_controls: Mapped[bool] = mapped_column(default=False)
    accepted_by: Mapped[str | None] = mapped_column(sa.Text)
    accepted_at: Mapped[datetime | None]
    acceptance_rationale: Mapped[str | None] = mapped_column(sa.Text)
    created_by: Mapped[str] = mapped_column(sa.Text)
    updated_by: Mapped[str] = mapped_column(sa.Text)


class RiskHistory(Base):
    """The full state of a risk after each change, with who made it and why."""

    __tablename__ = "risk_history"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    org_id: Mapped[uuid.UUID]
    risk_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("risk.id", ondelete="CASCADE"))
    version: Mapped[int]
    action: Mapped[str] = mapped_column(sa.Text)
    changed_by: Mapped[str] = mapped_column(sa.Text)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[dict[str, Any]]
