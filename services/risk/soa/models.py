"""The Statement of Applicability: one entry per Annex A control and organisation, and versions.

A version is a snapshot of all entries at the time it was drafted; approving one supersedes the
previously approved version. A partial unique index keeps exactly one approved (current) version
per organisation.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.risk.base import Base
from shared.db import TenantColumns, utcnow, uuid7


class SoAEntry(TenantColumns, Base):
    """Whether one Annex A control applies to the organisation, why, and how far it is."""

    __tablename__ = "soa_entry"
    __table_args__ = (sa.UniqueConstraint("org_id", "control_id"),)

    control_id: Mapped[str] = mapped_column(sa.Text)
    applicable: Mapped[bool]
    justification: Mapped[str | None] = mapped_column(sa.Text)
    implementation_status: Mapped[str] = mapped_column(sa.Text, default="not_started")
    owner: Mapped[str | None] = mapped_column(sa.Text)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    # ``proposed`` (from the AI roles, until someone decides) or ``decided``.
    decision: Mapped[str] = mapped_column(sa.Text, default="proposed")
    proposal_reason: Mapped[str | None] = mapped_column(sa.Text)
    decided_by: Mapped[str | None] = mapped_column(sa.Text)
    decided_at: Mapped[datetime | None]
    updated_by: Mapped[str] = mapped_column(sa.Text)


class SoAVersion(Base):
    """A numbered snapshot of the SoA: draft → approved → superseded."""

    __tablename__ = "soa_version"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "number"),
        sa.Index(
            "uq_soa_version_one_approved",
            "org_id",
            unique=True,
            postgresql_where=sa.text("status = 'approved'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    number: Mapped[int]
    status: Mapped[str] = mapped_column(sa.Text, default="draft")
    entries: Mapped[list[Any]] = mapped_column(default=list)
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.Text)
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(sa.Text)
    superseded_at: Mapped[datetime | None]
