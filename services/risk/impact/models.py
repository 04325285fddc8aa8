"""Impact assessments of AI systems and their change history (ISO/IEC 42001 A.5.3: documented)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.risk.base import Base
from shared.db import TenantColumns, utcnow, uuid7


class ImpactAssessment(TenantColumns, Base):
    """One assessment of one system; ``contents`` holds the assessment itself (see schemas)."""

    __tablename__ = "impact_assessment"
    __table_args__ = (
        sa.Index("ix_impact_assessment_org_system", "org_id", "system_id", "id"),
        # At most one approved assessment per system: approving supersedes the previous one.
        sa.Index(
            "uq_impact_assessment_approved",
            "system_id",
            unique=True,
            postgresql_where=sa.text("status = 'approved'"),
        ),
    )

    system_id: Mapped[uuid.UUID] = mapped_column()
    status: Mapped[str] = mapped_column(sa.Text, default="draft")
    contents: Mapped[dict[str, Any]] = mapped_column(default=dict)
    next_review_at: Mapped[date | None] = mapped_column(sa.Date)
    created_by: Mapped[str] = mapped_column(sa.Text)
    updated_by: Mapped[str] = mapped_column(sa.Text)
    submitted_by: Mapped[str | None] = mapped_column(sa.Text)
    submitted_at: Mapped[datetime | None] = mapped_column()
    approved_by: Mapped[str | None] = mapped_column(sa.Text)
    approved_at: Mapped[datetime | None] = mapped_column()
    superseded_by: Mapped[uuid.UUID | None] = mapped_column()
    superseded_at: Mapped[datetime | None] = mapped_column()
    # The last time it was sent back from review to draft, and why.
    returned_by: Mapped[str | None] = mapped_column(sa.Text)
    returned_at: Mapped[datetime | None] = mapped_column()
    return_reason: Mapped[str | None] = mapped_column(sa.Text)
    # End states other than approval (a reopened one keeps them until it ends again).
    rejected_by: Mapped[str | None] = mapped_column(sa.Text)
    rejected_at: Mapped[datetime | None] = mapped_column()
    rejection_reason: Mapped[str | None] = mapped_column(sa.Text)
    withdrawn_by: Mapped[str | None] = mapped_column(sa.Text)
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    withdrawal_reason: Mapped[str | None] = mapped_column(sa.Text)


class ImpactAssessmentChange(Base):
    """One version of an assessment: who did what, written in the change's own transaction."""

    __tablename__ = "impact_assessment_change"
    __table_args__ = (sa.UniqueConstraint("assessment_id", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    org_id: Mapped[uuid.UUID] = mapped_column()
    assessment_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("impact_assessment.id", ondelete="CASCADE")
    )
    version: Mapped[int] = mapped_column()
    action: Mapped[str] = mapped_column(sa.Text)
    changed_by: Mapped[str] = mapped_column(sa.Text)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changes: Mapped[dict[str, Any]] = mapped_column()
