"""Inventory: the full AI system register — new fields, search, history, custom fields.

Revision ID: 20261128_register
Revises: 20261128_initial
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR, UUID

from shared.db import rls_statements

revision = "20261128_register"
down_revision = "20261128_initial"
branch_labels = None
depends_on = None

SEARCH_DOCUMENT = (
    "to_tsvector('english'::regconfig, coalesce(name, '') || ' ' || coalesce(description, '') "
    "|| ' ' || coalesce(intended_purpose, ''))"
)

NEW_COLUMNS = (
    "intended_purpose",
    "provenance",
    "vendor_id",
    "data_inputs",
    "sector",
    "affected_stakeholders",
    "human_oversight",
    "ai_roles",
    "next_review_at",
    "custom_fields",
    "in_scope",
    "eu_ai_act_tier",
    "risk_level",
    "classification_version",
)


def upgrade() -> None:
    op.add_column("ai_system", sa.Column("intended_purpose", sa.Text))
    op.add_column("ai_system", sa.Column("provenance", sa.Text))
    op.add_column("ai_system", sa.Column("vendor_id", UUID(as_uuid=True)))
    op.add_column(
        "ai_system",
        sa.Column("data_inputs", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    )
    op.add_column("ai_system", sa.Column("sector", sa.Text))
    op.add_column(
        "ai_system",
        sa.Column(
            "affected_stakeholders",
            ARRAY(sa.Text),
            nullable=False,
            server_default=sa.text("'{}'::text[]"),
        ),
    )
    op.add_column("ai_system", sa.Column("human_oversight", sa.Text))
    op.add_column(
        "ai_system",
        sa.Column(
            "ai_roles", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'::text[]")
        ),
    )
    op.add_column("ai_system", sa.Column("next_review_at", sa.Date))
    op.add_column(
        "ai_system",
        sa.Column("custom_fields", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    )
    op.add_column("ai_system", sa.Column("in_scope", sa.Boolean))
    op.add_column("ai_system", sa.Column("eu_ai_act_tier", sa.Text))
    op.add_column("ai_system", sa.Column("risk_level", sa.Text))
    op.add_column("ai_system", sa.Column("classification_version", sa.Integer))
    op.add_column(
        "ai_system",
        sa.Column("search", TSVECTOR, sa.Computed(SEARCH_DOCUMENT, persisted=True)),
    )
    op.drop_index("ix_ai_system_org_name", table_name="ai_system")
    op.create_index("ix_ai_system_org_name", "ai_system", ["org_id", "name", "id"])
    op.create_index("ix_ai_system_org_created", "ai_system", ["org_id", "created_at", "id"])
    op.create_index("ix_ai_system_org_updated", "ai_system", ["org_id", "updated_at", "id"])
    op.create_index("ix_ai_system_org_review", "ai_system", ["org_id", "next_review_at", "id"])
    op.create_index("ix_ai_system_org_owner", "ai_system", ["org_id", "owner"])
    op.create_index("ix_ai_system_search", "ai_system", ["search"], postgresql_using="gin")
    op.create_index("ix_ai_system_ai_roles", "ai_system", ["ai_roles"], postgresql_using="gin")

    op.create_table(
        "ai_system_change",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False),
        sa.Column(
            "system_id",
            UUID(as_uuid=True),
            sa.ForeignKey("ai_system.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("changed_by", sa.Text, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changes", JSONB, nullable=False),
        sa.UniqueConstraint("system_id", "version", name="uq_ai_system_change_system_id"),
    )
    op.create_table(
        "custom_field",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("choices", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("required", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("org_id", "key", name="uq_custom_field_org_id"),
    )
    op.create_index("ix_custom_field_org_id", "custom_field", ["org_id"])
    for table in ("ai_system_change", "custom_field"):
        for stmt in rls_statements(table):
            op.execute(stmt)


def downgrade() -> None:
    op.drop_table("custom_field")
    op.drop_table("ai_system_change")
    for index in (
        "ix_ai_system_ai_roles",
        "ix_ai_system_search",
        "ix_ai_system_org_owner",
        "ix_ai_system_org_review",
        "ix_ai_system_org_updated",
        "ix_ai_system_org_created",
        "ix_ai_system_org_name",
    ):
        op.drop_index(index, table_name="ai_system")
    op.create_index("ix_ai_system_org_name", "ai_system", ["org_id", "name"])
    op.drop_column("ai_system", "search")
    for column in reversed(NEW_COLUMNS):
        op.drop_column("ai_system", column)
