"""Risk tables. ``system`` is this service's projection of the inventory's AI systems."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import NAMING_CONVENTION, TYPE_ANNOTATION_MAP, utcnow


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = TYPE_ANNOTATION_MAP


class SystemProjection(Base):
    """What the risk service knows of an AI system, kept from ``aims.inventory.system.*``."""

    __tablename__ = "system"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(sa.Text)
    lifecycle_stage: Mapped[str] = mapped_column(sa.Text)
    business_function: Mapped[str | None] = mapped_column(sa.Text)
    owner: Mapped[str | None] = mapped_column(sa.Text)
    source_version: Mapped[int]
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)
