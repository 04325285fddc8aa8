"""Management reviews (ISO/IEC 42001 9.3): their inputs, decisions and the actions they set."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.evidence.base import Base
from shared.db import TenantColumns, utcnow, uuid7

REVIEW_STATUSES = ("planned", "held", "closed")
ACTION_STATUSES = ("open", "done", "cancelled")
SOURCE_ENTITY_TYPES = ("context_issue", "interested_party", "risk")


class ManagementReview(TenantColumns, Base):
    """One management review: planned for ``review_date``, ``held`` (on ``held_on``), then
    ``closed`` (its record is final; its actions go on being tracked).

    ``prefill`` is the snapshot of the live data as of the review date (the automatic part of
    each input of 9.3.2), stored so that it stays as it was; ``notes`` holds the free-text part
    of each input by section name.
    """

    __tablename__ = "management_review"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {REVIEW_STATUSES!r}", name="status_known"),
        sa.Index("ix_management_review_org_date", "org_id", "review_date"),
    )

    title: Mapped[str] = mapped_column(sa.Text)
    review_date: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.Text, default="planned")
    held_on: Mapped[date | None] = mapped_column(sa.Date)
    closed_at: Mapped[datetime | None]
    attendees: Mapped[list[str]] = mapped_column(default=list)
    notes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prefill: Mapped[dict[str, Any] | None]
    prefill_as_of: Mapped[date | None] = mapped_column(sa.Date)
    prefilled_at: Mapped[datetime | None]
    decisions: Mapped[list[str]] = mapped_column(default=list)
    created_by: Mapped[str] = mapped_column(sa.Text)
    updated_by: Mapped[str] = mapped_column(sa.Text)


class ManagementReviewAction(TenantColumns, Base):
    """An action decided by a management review (9.3.3), tracked until done or cancelled."""

    __tablename__ = "management_review_action"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {ACTION_STATUSES!r}", name="status_known"),
        sa.Index("ix_management_review_action_review", "review_id", "id"),
        sa.Index("ix_management_review_action_org_status_due", "org_id", "status", "due_date"),
    )

    review_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("management_review.id", ondelete="RESTRICT")
    )
    title: Mapped[str] = mapped_column(sa.Text)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    owner: Mapped[str] = mapped_column(sa.Text)
    due_date: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.Text, default="open")
    # When it became done or cancelled (None while open): lets a later review show the status
    # as it was on its own date.
    closed_at: Mapped[datetime | None]
    # When the scheduler announced that the due date had passed (reset when it moves).
    overdue_notified_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(sa.Text)
    updated_by: Mapped[str] = mapped_column(sa.Text)


class ReviewSourceVersion(Base):
    """One version of something another service keeps that a review reads as of its date, as
    that service announced it: an external or internal issue (4.1,
    ``aims.inventory.context_issue.*``), an interested party with its requirements (4.2,
    ``aims.inventory.interested_party.*``), or a risk of the register (6.1,
    ``aims.risk.risk.*``).

    Every version is kept (never updated), so that a review can show each as it stood on its
    date and what changed since the previous review (9.3.2 b, c and the risks), however late it
    is pre-filled. ``data`` holds what a review shows of it (bounded).
    """

    __tablename__ = "review_source_version"
    __table_args__ = (
        sa.CheckConstraint(f"entity_type IN {SOURCE_ENTITY_TYPES!r}", name="entity_type_known"),
        sa.UniqueConstraint(
            "entity_type", "entity_id", "source_version", name="uq_review_source_version"
        ),
        sa.Index(
            "ix_review_source_version_org_type",
            "org_id",
            "entity_type",
            "entity_id",
            "changed_at",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    org_id: Mapped[uuid.UUID]
    entity_type: Mapped[str] = mapped_column(sa.Text)
    entity_id: Mapped[uuid.UUID]
    source_version: Mapped[int]
    # When the entry was first recorded, and when this version was (the inventory's clock).
    recorded_at: Mapped[datetime]
    changed_at: Mapped[datetime]
    title: Mapped[str] = mapped_column(sa.Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
