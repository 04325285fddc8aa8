"""Internal audit (ISO/IEC 42001 9.2): audit programmes, audits and their findings.

Scope lists (clauses, controls, systems), the audit team and the evidence sampled are JSONB lists
on the audit row: they are read and written whole, bounded in size, and the readiness domain
reads ``audit.clauses`` / ``audit.controls`` directly (see docs/architecture.md, issue 8 table
contracts).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.evidence.base import Base
from shared.db import TenantColumns

AUDIT_STATUSES = ("planned", "in_progress", "completed", "cancelled")
FINDING_KINDS = (
    "major_nonconformity",
    "minor_nonconformity",
    "observation",
    "opportunity_for_improvement",
)
FINDING_STATUSES = ("open", "closed")


class AuditProgramme(TenantColumns, Base):
    """The audits planned over one cycle (``period_start`` .. ``period_end``, inclusive)."""

    __tablename__ = "audit_programme"
    __table_args__ = (
        sa.CheckConstraint("period_end >= period_start", name="period_ordered"),
        sa.Index("ix_audit_programme_org_period", "org_id", "period_start"),
    )

    title: Mapped[str] = mapped_column(sa.Text)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    period_start: Mapped[date] = mapped_column(sa.Date)
    period_end: Mapped[date] = mapped_column(sa.Date)
    created_by: Mapped[str] = mapped_column(sa.Text)
    updated_by: Mapped[str] = mapped_column(sa.Text)


class Audit(TenantColumns, Base):
    """One internal audit: its scope, criteria, dates, team and the evidence it sampled."""

    __tablename__ = "audit"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {AUDIT_STATUSES!r}", name="status_known"),
        sa.CheckConstraint("planned_end >= planned_start", name="planned_ordered"),
        sa.Index("ix_audit_org_programme", "org_id", "programme_id"),
        sa.Index("ix_audit_org_status", "org_id", "status"),
    )

    programme_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("audit_programme.id", ondelete="RESTRICT")
    )
    title: Mapped[str] = mapped_column(sa.Text)
    criteria: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.Text, default="planned")
    planned_start: Mapped[date] = mapped_column(sa.Date)
    planned_end: Mapped[date] = mapped_column(sa.Date)
    started_on: Mapped[date | None] = mapped_column(sa.Date)
    completed_on: Mapped[date | None] = mapped_column(sa.Date)
    cancelled_at: Mapped[datetime | None]
    clauses: Mapped[list[str]] = mapped_column(JSONB, default=list)
    controls: Mapped[list[str]] = mapped_column(JSONB, default=list)
    systems: Mapped[list[str]] = mapped_column(JSONB, default=list)
    lead_auditor: Mapped[str] = mapped_column(sa.Text)
    auditors: Mapped[list[str]] = mapped_column(JSONB, default=list)
    evidence_sampled: Mapped[list[str]] = mapped_column(JSONB, default=list)
    conclusion: Mapped[str] = mapped_column(sa.Text, default="")
    created_by: Mapped[str] = mapped_column(sa.Text)
    updated_by: Mapped[str] = mapped_column(sa.Text)


class Finding(TenantColumns, Base):
    """What an audit found. A major or minor nonconformity opens a ``nonconformity`` (10.2) in
    the same transaction; its ``status`` follows that nonconformity (closed when it closes)."""

    __tablename__ = "finding"
    __table_args__ = (
        sa.CheckConstraint(f"kind IN {FINDING_KINDS!r}", name="kind_known"),
        sa.CheckConstraint(f"status IN {FINDING_STATUSES!r}", name="status_known"),
        sa.Index("ix_finding_audit_id", "audit_id", "id"),
        sa.Index("ix_finding_org_kind_status", "org_id", "kind", "status"),
        sa.Index("ix_finding_links", "links", postgresql_using="gin"),
    )

    audit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("audit.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(sa.Text)
    title: Mapped[str] = mapped_column(sa.Text)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.Text, default="open")
    # [{"target_type": "clause", "target_id": "9.2"}, …]
    links: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    raised_by: Mapped[str] = mapped_column(sa.Text)
    raised_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(sa.Text)
    updated_by: Mapped[str] = mapped_column(sa.Text)
