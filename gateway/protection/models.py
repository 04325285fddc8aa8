"""The trusted GraphQL document table (tenant-owned, under row-level security)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import NAMING_CONVENTION, TYPE_ANNOTATION_MAP, utcnow, uuid7


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = TYPE_ANNOTATION_MAP


class GraphQLDocument(Base):
    """A document an organisation's admin registered; called by its SHA-256 hash."""

    __tablename__ = "graphql_document"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "sha256", name="uq_graphql_document_org_sha256"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    # Lower-case hex SHA-256 of the UTF-8 document exactly as registered.
    sha256: Mapped[str] = mapped_column(sa.Text)
    document: Mapped[str] = mapped_column(sa.Text)
    # A label for people (e.g. the client and its build: ``dashboard@2.4.1``).
    name: Mapped[str] = mapped_column(sa.Text, default="")
    operation_names: Mapped[list[str]] = mapped_column()
    created_by: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
