"""Stored EU AI Act classifications: one row per classification, versioned per system."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.risk.base import Base
from shared.db import utcnow, uuid7


class ClassificationRecord(Base):
    """One classification of one AI system; the newest (``is_current``) is the system's current.

    ``version`` counts the system's classifications (1, 2, …) and is the event's ``dataversion``.
    """

    __tablename__ = "classification"
    __table_args__ = (
        sa.UniqueConstraint("system_id", "version", name="uq_classification_system_version"),
        sa.Index(
            "uq_classification_current",
            "system_id",
            unique=True,
            postgresql_where=sa.text("is_current"),
        ),
        sa.Index("ix_classification_org_current", "org_id", "is_current"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    system_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("system.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int]
    is_current: Mapped[bool] = mapped_column(default=True)
    role: Mapped[str] = mapped_column(sa.Text)
    tier: Mapped[str] = mapped_column(sa.Text)
    route: Mapped[str] = mapped_column(sa.Text)
    answers: Mapped[dict[str, Any]]
    result: Mapped[dict[str, Any]]
    classified_by: Mapped[str] = mapped_column(sa.Text)
    classified_at: Mapped[datetime] = mapped_column(default=utcnow)
    reclassification_requested_at: Mapped[datetime | None]
    reclassification_facts: Mapped[list[str]] = mapped_column(default=list)
