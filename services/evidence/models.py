"""Evidence tables. ``system`` is this service's projection of the inventory's AI systems."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.evidence.base import Base
from shared.db import utcnow, uuid7
from shared.projections import SystemProjectionColumns


class SystemProjection(SystemProjectionColumns, Base):
    """What the evidence service knows of an AI system, kept from ``aims.inventory.system.*``."""

    __tablename__ = "system"


class EvidenceFile(Base):
    """One uploaded file of an evidence item's version; its bytes live in the blob store under
    ``blob_key``.

    Files are immutable: a new version of a document is a new file. Blobs are content-addressed
    per organisation, so several rows may share one ``blob_key``.
    """

    __tablename__ = "evidence_file"
    __table_args__ = (
        sa.Index("ix_evidence_file_system_id_id", "system_id", "id"),
        sa.Index("ix_evidence_file_version_id_id", "version_id", "id"),
        sa.Index("ix_evidence_file_org_id_sha256", "org_id", "sha256"),
        sa.CheckConstraint("size_bytes >= 0", name="size_not_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    item_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("evidence_item.id", ondelete="CASCADE")
    )
    version_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("evidence_version.id", ondelete="CASCADE")
    )
    # The system a file was uploaded for through ``/v1/systems/{id}/files`` (None for files
    # uploaded to an item). No foreign key to ``system``: the projection is eventually
    # consistent and never deleted. What a file serves is the item's links.
    system_id: Mapped[uuid.UUID | None]
    filename: Mapped[str] = mapped_column(sa.Text)
    content_type: Mapped[str] = mapped_column(sa.Text)
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    blob_key: Mapped[str] = mapped_column(sa.Text)
    created_by: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
