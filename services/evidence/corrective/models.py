"""Nonconformity and corrective action (ISO/IEC 42001 10.2)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.evidence.base import Base
from shared.db import TenantColumns

SEVERITIES = ("major", "minor")
NONCONFORMITY_STATUSES = (
    "open",
    "correction_done",
    "action_planned",
    "awaiting_verification",
    "closed",
)
ACTION_STATUSES = ("planned", "implemented", "verified_effective", "verified_ineffective", "closed")
VERIFICATION_METHODS = ("follow_up_audit", "record_review", "observation", "test", "other")


class Nonconformity(TenantColumns, Base):
    """A nonconformity: raised by an audit finding (``finding_id``) or recorded directly (an
    incident, a complaint, a review). ``status`` is derived from what has been recorded
    (:func:`services.evidence.corrective.rules.derive_status`) and stored for filtering."""

    __tablename__ = "nonconformity"
    __table_args__ = (
        sa.CheckConstraint(f"severity IN {SEVERITIES!r}", name="severity_known"),
        sa.CheckConstraint(f"status IN {NONCONFORMITY_STATUSES!r}", name="status_known"),
        sa.Index("ix_nonconformity_org_status", "org_id", "status"),
        sa.Index(
            "uq_nonconformity_finding",
            "finding_id",
            unique=True,
            postgresql_where=sa.text("finding_id IS NOT NULL"),
        ),
    )

    finding_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("finding.id", ondelete="RESTRICT")
    )
    severity: Mapped[str] = mapped_column(sa.Text)
    title: Mapped[str] = mapped_column(sa.Text)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.Text, default="open")
    owner: Mapped[str | None] = mapped_column(sa.Text)
    due_date: Mapped[date | None] = mapped_column(sa.Date)
    # 10.2 a): what was done at once to control and correct it.
    correction: Mapped[str | None] = mapped_column(sa.Text)
    correction_done_on: Mapped[date | None] = mapped_column(sa.Date)
    # 10.2 b): the causes, as "5 whys" ([{"why": …, "because": …}], at most 5), and a summary.
    root_cause_whys: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    root_cause: Mapped[str | None] = mapped_column(sa.Text)
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(sa.Text)
    created_by: Mapped[str] = mapped_column(sa.Text)
    updated_by: Mapped[str] = mapped_column(sa.Text)


class CorrectiveAction(TenantColumns, Base):
    """An action to eliminate a nonconformity's cause (10.2 c), its implementation, and the
    follow-up that verified its effectiveness (10.2 d).

    ``planned`` → ``implemented`` → ``verified_effective`` | ``verified_ineffective``;
    an ineffective action is reworked (implemented again) and verified again; every action
    becomes ``closed`` when its nonconformity closes.
    """

    __tablename__ = "corrective_action"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {ACTION_STATUSES!r}", name="status_known"),
        sa.CheckConstraint(
            f"verification_method IS NULL OR verification_method IN {VERIFICATION_METHODS!r}",
            name="verification_method_known",
        ),
        sa.Index("ix_corrective_action_nonconformity", "nonconformity_id", "id"),
        sa.Index("ix_corrective_action_org_status_due", "org_id", "status", "due_date"),
    )

    nonconformity_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("nonconformity.id", ondelete="RESTRICT")
    )
    description: Mapped[str] = mapped_column(sa.Text)
    owner: Mapped[str] = mapped_column(sa.Text)
    due_date: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.Text, default="planned")
    implemented_at: Mapped[datetime | None]
    implemented_by: Mapped[str | None] = mapped_column(sa.Text)
    implementation_notes: Mapped[str] = mapped_column(sa.Text, default="")
    verified_at: Mapped[datetime | None]
    verified_on: Mapped[date | None] = mapped_column(sa.Date)
    verified_by: Mapped[str | None] = mapped_column(sa.Text)
    verification_method: Mapped[str | None] = mapped_column(sa.Text)
    verification_notes: Mapped[str] = mapped_column(sa.Text, default="")
    closed_at: Mapped[datetime | None]
    # When the scheduler announced that the due date had passed (reset when it moves).
    overdue_notified_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(sa.Text)
    updated_by: Mapped[str] = mapped_column(sa.Text)
