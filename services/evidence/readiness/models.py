"""Tables of the readiness domain: projections of the risk service's risks and impact
assessments, stored readiness snapshots, and the certification plan with its milestones.

Audits, findings, nonconformities, corrective actions, management reviews, evidence and the
documented domain's scope/SoA/system tables are read from their owners' tables (read-only).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.evidence.base import Base
from shared.db import TenantColumns, utcnow, uuid7


class ReadinessRisk(Base):
    """What readiness needs of a risk (``aims.risk.risk.*``): its status, owner, review date."""

    __tablename__ = "readiness_risk"
    __table_args__ = (
        sa.Index(
            "ix_readiness_risk_org_review",
            "org_id",
            "next_review_at",
            postgresql_where=sa.text("status <> 'closed'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    system_id: Mapped[uuid.UUID | None]
    title: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.Text)
    inherent_level: Mapped[str | None] = mapped_column(sa.Text)
    residual_level: Mapped[str | None] = mapped_column(sa.Text)
    next_review_at: Mapped[datetime | None]
    owner: Mapped[str | None] = mapped_column(sa.Text)
    source_version: Mapped[int]
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReadinessImpactAssessment(Base):
    """An AI system impact assessment's status (``aims.risk.impact_assessment.*``)."""

    __tablename__ = "readiness_impact_assessment"
    __table_args__ = (sa.Index("ix_readiness_impact_assessment_system", "org_id", "system_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    org_id: Mapped[uuid.UUID]
    system_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(sa.Text)
    approved_at: Mapped[datetime | None]
    source_version: Mapped[int]
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReadinessSnapshot(Base):
    """Readiness as computed at ``computed_at`` (stored when it changed, or daily)."""

    __tablename__ = "readiness_snapshot"
    __table_args__ = (
        sa.Index("ix_readiness_snapshot_org_computed", "org_id", "computed_at"),
        sa.Index("uq_readiness_snapshot_org_number", "org_id", "number", unique=True),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    org_id: Mapped[uuid.UUID]
    number: Mapped[int]  # 1, 2, … per organisation (the ``dataversion`` of its event)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    as_of: Mapped[date] = mapped_column(sa.Date)
    score: Mapped[int]
    verdict: Mapped[str] = mapped_column(sa.Text)
    # What identifies a change: verdict, score and the set of blocker keys (sha256).
    fingerprint: Mapped[str] = mapped_column(sa.Text)
    blocker_counts: Mapped[dict[str, int]] = mapped_column(JSONB, default=dict)
    # Bounded: at most ``SNAPSHOT_BLOCKERS`` blockers and the rules' outcomes.
    blockers: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    blockers_total: Mapped[int] = mapped_column(default=0)
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    # Every clause's and applicable control's status as computed then (``ClauseStatusRead`` and
    # ``ControlStatusRead``; at most 10 evidence ids each). Empty in snapshots taken before they
    # were kept (migration 20261201_snapshot_statuses).
    clauses: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, default=list, server_default=sa.text("'[]'::jsonb")
    )
    controls: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, default=list, server_default=sa.text("'[]'::jsonb")
    )
    trigger: Mapped[str] = mapped_column(sa.Text, default="event")


class CertificationPlan(TenantColumns, Base):
    """The organisation's certification target (one per organisation)."""

    __tablename__ = "certification_plan"
    __table_args__ = (sa.UniqueConstraint("org_id", name="uq_certification_plan_org"),)

    target_kind: Mapped[str] = mapped_column(sa.Text)  # stage1 | stage2
    target_date: Mapped[date] = mapped_column(sa.Date)
    options: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    aims_lead: Mapped[str | None] = mapped_column(sa.Text)
    certification_body: Mapped[str | None] = mapped_column(sa.Text)
    created_by: Mapped[str] = mapped_column(sa.Text)
    updated_by: Mapped[str] = mapped_column(sa.Text)


class CertificationMilestone(TenantColumns, Base):
    """One milestone of the plan; ``planned_*`` are recomputed when the plan changes."""

    __tablename__ = "certification_milestone"
    __table_args__ = (sa.UniqueConstraint("org_id", "kind", name="uq_certification_milestone"),)

    plan_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("certification_plan.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(sa.Text)
    ordinal: Mapped[int]
    title: Mapped[str] = mapped_column(sa.Text)
    planned_start: Mapped[date] = mapped_column(sa.Date)
    planned_end: Mapped[date] = mapped_column(sa.Date)
    done_on: Mapped[date | None] = mapped_column(sa.Date)
    overdue_notified_at: Mapped[datetime | None]
