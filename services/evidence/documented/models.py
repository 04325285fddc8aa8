"""Tables of the documented domain: what it knows of the SoA, the scope and the systems, and the
evidence requests it opens when a system enters the scope.

Why its own ``documented_system`` table instead of columns on the shared ``system`` projection:
scope and classification events travel on other subjects than ``aims.inventory.system.*`` and may
arrive before the system's own event; a row created from them could not fill the projection's
required columns (name, lifecycle stage, inventory version), and two consumers upserting one row
would have to agree on who owns which column. A table keyed by the system id, written only here,
has neither problem.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from services.evidence.base import Base
from shared.db import utcnow, uuid7

REQUEST_STATUSES = ("open", "withdrawn")


class DocumentedSoA(Base):
    """The organisation's current approved Statement of Applicability (from ``soa.changed``)."""

    __tablename__ = "documented_soa"

    org_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    soa_version_id: Mapped[uuid.UUID]
    number: Mapped[int]
    included_controls: Mapped[list[str]] = mapped_column(ARRAY(sa.Text))
    excluded_controls: Mapped[list[str]] = mapped_column(ARRAY(sa.Text))
    approved_at: Mapped[datetime | None]
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)


class DocumentedScope(Base):
    """The number of the organisation's current approved scope (from ``scope.changed``)."""

    __tablename__ = "documented_scope"

    org_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    scope_version_id: Mapped[uuid.UUID]
    number: Mapped[int]
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)


class DocumentedSystem(Base):
    """A system's scope membership and EU AI Act tier, as far as documented information cares."""

    __tablename__ = "documented_system"
    __table_args__ = (
        sa.Index("ix_documented_system_in_scope", "org_id", postgresql_where=sa.text("in_scope")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    org_id: Mapped[uuid.UUID]
    in_scope: Mapped[bool] = mapped_column(default=False)
    scope_number: Mapped[int | None]
    tier: Mapped[str | None] = mapped_column(sa.Text)
    classification_version: Mapped[int | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class EvidenceRequest(Base):
    """One system-level item asked of one system. ``status`` is stored as ``open`` or
    ``withdrawn``; ``satisfied`` is derived when read (an open request whose item has approved,
    current evidence), because evidence lapses with time, not only with events."""

    __tablename__ = "evidence_request"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "system_id", "item_id", name="uq_evidence_request_item"),
        sa.CheckConstraint(f"status IN {REQUEST_STATUSES!r}", name="status_known"),
        sa.Index("ix_evidence_request_org_id_status", "org_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    org_id: Mapped[uuid.UUID]
    system_id: Mapped[uuid.UUID]
    # ``system_id`` as evidence links hold it: a correlated ``system_id::text`` is not
    # leakproof, so under row-level security it could not be an index condition on the links.
    system_key: Mapped[str] = mapped_column(sa.Text, sa.Computed("system_id::text"))
    item_id: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.Text, default="open")
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
