"""AI objectives (ISO/IEC 42001 6.2) and their measurements over time (9.1)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.evidence.base import Base
from shared.db import TenantColumns, utcnow, uuid7

DIRECTIONS = ("at_least", "at_most")
STATUSES = ("active", "achieved", "missed", "withdrawn")


class Objective(TenantColumns, Base):
    """An AI objective: what is measured, the target, who owns it and by when.

    ``latest_value``, ``latest_measured_on`` and ``on_target`` are kept on the row (updated with
    each measurement) so that "which objectives are off target" is one indexed query.
    """

    __tablename__ = "objective"
    __table_args__ = (
        sa.CheckConstraint(f"direction IN {DIRECTIONS!r}", name="direction_known"),
        sa.CheckConstraint(f"status IN {STATUSES!r}", name="status_known"),
        sa.Index("ix_objective_org_on_target", "org_id", "on_target"),
        sa.Index("ix_objective_org_status", "org_id", "status"),
    )

    title: Mapped[str] = mapped_column(sa.Text)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    clauses: Mapped[list[str]] = mapped_column(default=list)
    controls: Mapped[list[str]] = mapped_column(default=list)
    measure: Mapped[str] = mapped_column(sa.Text)
    unit: Mapped[str] = mapped_column(sa.Text, default="")
    target_value: Mapped[float] = mapped_column(sa.Double)
    direction: Mapped[str] = mapped_column(sa.Text)
    baseline: Mapped[float | None] = mapped_column(sa.Double)
    owner: Mapped[str] = mapped_column(sa.Text)
    due_date: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.Text, default="active")
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    latest_value: Mapped[float | None] = mapped_column(sa.Double)
    latest_measured_on: Mapped[date | None] = mapped_column(sa.Date)
    on_target: Mapped[bool | None]
    measurement_count: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str] = mapped_column(sa.Text)
    updated_by: Mapped[str] = mapped_column(sa.Text)


class ObjectiveMeasurement(Base):
    """One measured value of an objective's measure, on a day. Recorded, never changed."""

    __tablename__ = "objective_measurement"
    __table_args__ = (
        sa.Index("ix_objective_measurement_time", "objective_id", "measured_on", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    objective_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("objective.id", ondelete="CASCADE")
    )
    value: Mapped[float] = mapped_column(sa.Double)
    measured_on: Mapped[date] = mapped_column(sa.Date)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_by: Mapped[str] = mapped_column(sa.Text)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
