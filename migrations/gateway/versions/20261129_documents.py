"""Trusted (persisted) GraphQL documents, one set per organisation under RLS (issue 11).

Revision ID: 20261129_documents
Revises: 20261129_secrets
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.db import rls_statements

revision = "20261129_documents"
down_revision = "20261129_secrets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "graphql_document",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("operation_names", JSONB, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("org_id", "sha256", name="uq_graphql_document_org_sha256"),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="ck_graphql_document_sha256"),
    )
    op.create_index("ix_graphql_document_org_id", "graphql_document", ["org_id"])
    for stmt in rls_statements("graphql_document"):
        op.execute(stmt)


def downgrade() -> None:
    op.drop_table("graphql_document")
