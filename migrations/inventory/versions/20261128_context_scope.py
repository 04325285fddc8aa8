"""Inventory: organisational context (4.1, 4.2) and AIMS scope versions (4.3).

Revision ID: 20261128_context_scope
Revises: 20261128_components
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.db import rls_statements

revision = "20261128_context_scope"
down_revision = "20261128_components"
branch_labels = None
depends_on = None

TABLES = (
    "context_issue",
    "interested_party",
    "organisation_ai_roles",
    "context_change",
    "scope_version",
)


def _tenant_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "context_issue",
        *_tenant_columns(),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("framework", sa.Text, nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("impact", sa.Text, nullable=False),
        sa.Column("owner", sa.Text),
        sa.Column("next_review_at", sa.DateTime(timezone=True)),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.CheckConstraint("kind IN ('internal', 'external')", name="ck_context_issue_kind"),
        sa.CheckConstraint("framework IN ('pestle', 'swot')", name="ck_context_issue_framework"),
    )
    op.create_index("ix_context_issue_org_id", "context_issue", ["org_id"])
    op.create_index("ix_context_issue_org_review", "context_issue", ["org_id", "next_review_at"])
    op.create_table(
        "interested_party",
        *_tenant_columns(),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("requirements", JSONB, nullable=False),
        sa.Column("owner", sa.Text),
        sa.Column("next_review_at", sa.DateTime(timezone=True)),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
    )
    op.create_index("ix_interested_party_org_id", "interested_party", ["org_id"])
    op.create_index(
        "ix_interested_party_org_review", "interested_party", ["org_id", "next_review_at"]
    )
    op.create_table(
        "organisation_ai_roles",
        sa.Column("org_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("roles", JSONB, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("next_review_at", sa.DateTime(timezone=True)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
    )
    op.create_table(
        "context_change",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False),
        sa.Column("entity_type", sa.Text, nullable=False),
        sa.Column("entity_id", UUID(as_uuid=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("changed_by", sa.Text, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changes", JSONB, nullable=False),
    )
    op.create_index(
        "ix_context_change_entity",
        "context_change",
        ["org_id", "entity_type", "entity_id", "id"],
    )
    op.create_table(
        "scope_version",
        *_tenant_columns(),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("statement", sa.Text, nullable=False),
        sa.Column("activities", JSONB, nullable=False),
        sa.Column("locations", JSONB, nullable=False),
        sa.Column("departments", JSONB, nullable=False),
        sa.Column("systems", JSONB, nullable=False),
        sa.Column("based_on_id", UUID(as_uuid=True)),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.Column("approved_by", sa.Text),
        sa.Column("approved_at", sa.DateTime(timezone=True)),
        sa.Column("superseded_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "status IN ('draft', 'approved', 'superseded')", name="ck_scope_version_status"
        ),
        sa.UniqueConstraint("org_id", "number", name="uq_scope_version_org_number"),
    )
    op.create_index("ix_scope_version_org_id", "scope_version", ["org_id"])
    # Exactly one current (approved) scope version per organisation.
    op.create_index(
        "uq_scope_version_one_approved",
        "scope_version",
        ["org_id"],
        unique=True,
        postgresql_where=sa.text("status = 'approved'"),
    )
    for table in TABLES:
        for stmt in rls_statements(table):
            op.execute(stmt)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
