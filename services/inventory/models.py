"""Inventory tables: organisations and the register of AI systems."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import NAMING_CONVENTION, TYPE_ANNOTATION_MAP, TenantColumns, utcnow


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = TYPE_ANNOTATION_MAP


class Organisation(Base):
    __tablename__ = "organisation"

    org_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AISystem(TenantColumns, Base):
    __tablename__ = "ai_system"
    __table_args__ = (sa.Index("ix_ai_system_org_name", "org_id", "name"),)

    name: Mapped[str] = mapped_column(sa.Text)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    owner: Mapped[str | None] = mapped_column(sa.Text)
    business_function: Mapped[str | None] = mapped_column(sa.Text)
    lifecycle_stage: Mapped[str] = mapped_column(sa.Text, default="idea")
    created_by: Mapped[str] = mapped_column(sa.Text)
    updated_by: Mapped[str] = mapped_column(sa.Text)
