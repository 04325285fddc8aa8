"""Evidence items and their links (the contract other evidence domains query).

An evidence item is one piece of documented information or proof (a policy, a record, a
screenshot, a log, an export, a link). Its content lives in versions (``evidence_version``, with
files); links say what it serves: clauses, Annex A controls, documented-information items,
systems, risks and SoA entries, many to many, so one item serves many without copies.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.evidence.base import Base
from shared.db import TenantColumns, utcnow, uuid7

EVIDENCE_KINDS = ("document", "record", "screenshot", "log", "export", "link")
EVIDENCE_STATUSES = ("draft", "in_review", "approved", "expired", "superseded")
LINK_TARGET_TYPES = (
    "clause",
    "control",
    "documented_information",
    "system",
    "risk",
    "soa_entry",
)


class EvidenceItem(TenantColumns, Base):
    """One item of evidence. ``status`` is the item's lifecycle:

    - ``draft`` / ``in_review``: no version approved yet (the latest is being written/reviewed);
    - ``approved``: a version is approved (``current_version``) and the item is in force;
    - ``expired``: its effective period ended (``effective_to`` passed);
    - ``superseded``: replaced by another item (``superseded_by``).

    Deleted items keep their row (``deleted_at``), so a deletion is recorded and links resolve.
    """

    __tablename__ = "evidence_item"
    __table_args__ = (
        sa.CheckConstraint(f"kind IN {EVIDENCE_KINDS!r}", name="kind_known"),
        sa.CheckConstraint(f"status IN {EVIDENCE_STATUSES!r}", name="status_known"),
        sa.Index("ix_evidence_item_org_id_status", "org_id", "status"),
    )

    title: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[str] = mapped_column(sa.Text)
    description: Mapped[str | None] = mapped_column(sa.Text)
    owner: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.Text, default="draft")
    effective_from: Mapped[date | None] = mapped_column(sa.Date)
    effective_to: Mapped[date | None] = mapped_column(sa.Date)
    review_by: Mapped[date | None] = mapped_column(sa.Date)
    retention_until: Mapped[date | None] = mapped_column(sa.Date)
    legal_hold: Mapped[bool] = mapped_column(default=False)
    legal_hold_reason: Mapped[str | None] = mapped_column(sa.Text)
    legal_hold_by: Mapped[str | None] = mapped_column(sa.Text)
    legal_hold_at: Mapped[datetime | None]
    # Number of the approved version in force (None: none approved yet) and of the newest one.
    current_version: Mapped[int | None]
    latest_version: Mapped[int] = mapped_column(default=0)
    superseded_by: Mapped[uuid.UUID | None]
    created_by: Mapped[str] = mapped_column(sa.Text)
    updated_by: Mapped[str] = mapped_column(sa.Text)
    deleted_at: Mapped[datetime | None]
    deleted_by: Mapped[str | None] = mapped_column(sa.Text)


class EvidenceLink(Base):
    """``item`` serves ``(target_type, target_id)``: a clause id (``7.5.3``), a control id
    (``A.6.2.8``), a documented-information id (``DI-01``), a system, risk or SoA entry id."""

    __tablename__ = "evidence_link"
    __table_args__ = (
        sa.UniqueConstraint("item_id", "target_type", "target_id", name="uq_evidence_link_target"),
        sa.CheckConstraint(f"target_type IN {LINK_TARGET_TYPES!r}", name="target_type_known"),
        sa.Index("ix_evidence_link_target", "org_id", "target_type", "target_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    item_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("evidence_item.id", ondelete="CASCADE")
    )
    target_type: Mapped[str] = mapped_column(sa.Text)
    target_id: Mapped[str] = mapped_column(sa.Text)
    created_by: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


VERSION_STATUSES = ("draft", "in_review", "approved", "superseded")
BLOB_STATES = ("ok", "corrupt", "missing")


class EvidenceVersion(Base):
    """One version of an item's content: its files (``evidence_file``) or, for a link, a URL.

    ``draft`` → ``in_review`` → ``approved`` → ``superseded``. An approved version is immutable:
    a change makes a new version.
    """

    __tablename__ = "evidence_version"
    __table_args__ = (
        sa.UniqueConstraint("item_id", "number", name="uq_evidence_version_item_number"),
        sa.CheckConstraint(f"status IN {VERSION_STATUSES!r}", name="status_known"),
        sa.CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    item_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("evidence_item.id", ondelete="CASCADE")
    )
    number: Mapped[int]
    status: Mapped[str] = mapped_column(sa.Text, default="draft")
    url: Mapped[str | None] = mapped_column(sa.Text)
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_by: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_by: Mapped[str | None] = mapped_column(sa.Text)
    submitted_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(sa.Text)
    approved_at: Mapped[datetime | None]


class Blob(Base):
    """What the service knows of one stored blob of an organisation: where it is and whether
    its content last matched its SHA-256 (``ok``), did not (``corrupt``) or was gone
    (``missing``). Kept by uploads, downloads and ``aims evidence verify``."""

    __tablename__ = "blob"
    __table_args__ = (sa.CheckConstraint(f"state IN {BLOB_STATES!r}", name="state_known"),)

    org_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    key: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[str] = mapped_column(sa.Text, default="ok")
    checked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
