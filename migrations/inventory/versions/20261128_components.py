"""Inventory: components, vendors, dependencies and interfaces.

Revision ID: 20261128_components
Revises: 20261128_register
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.db import rls_statements

revision = "20261128_components"
down_revision = "20261128_register"
branch_labels = None
depends_on = None

TABLES = ("vendor", "component", "dependency", "interface")
NODE_TYPES = "'system', 'component'"


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
        "vendor",
        *_tenant_columns(),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("services", JSONB, nullable=False),
        sa.Column("website", sa.Text),
        sa.Column("contact", sa.Text),
        sa.Column("last_reviewed_at", sa.DateTime(timezone=True)),
        sa.Column("next_review_at", sa.DateTime(timezone=True)),
        sa.Column("notes", sa.Text, nullable=False),
    )
    op.create_index("ix_vendor_org_id", "vendor", ["org_id"])
    op.create_index("uq_vendor_org_name", "vendor", ["org_id", sa.text("lower(name)")], unique=True)
    op.create_table(
        "component",
        *_tenant_columns(),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("component_version", sa.Text),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column(
            "vendor_id",
            UUID(as_uuid=True),
            sa.ForeignKey("vendor.id", ondelete="RESTRICT", name="fk_component_vendor_id_vendor"),
        ),
        sa.Column(
            "system_id",
            UUID(as_uuid=True),
            sa.ForeignKey(
                "ai_system.id", ondelete="CASCADE", name="fk_component_system_id_ai_system"
            ),
        ),
        sa.Column("bom_ref", sa.Text),
        sa.Column("model_card", JSONB),
        sa.Column("properties", JSONB, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.CheckConstraint(
            "kind IN ('model', 'dataset', 'third_party_ai_service', 'software', 'service')",
            name="ck_component_kind",
        ),
        sa.UniqueConstraint("org_id", "system_id", "bom_ref", name="uq_component_bom_ref"),
    )
    op.create_index("ix_component_org_id", "component", ["org_id"])
    op.create_index("ix_component_system_id", "component", ["system_id"])
    op.create_index("ix_component_vendor_id", "component", ["vendor_id"])
    op.create_table(
        "dependency",
        *_tenant_columns(),
        sa.Column("from_type", sa.Text, nullable=False),
        sa.Column("from_id", UUID(as_uuid=True), nullable=False),
        sa.Column("to_type", sa.Text, nullable=False),
        sa.Column("to_id", UUID(as_uuid=True), nullable=False),
        sa.Column("relation", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.CheckConstraint(f"from_type IN ({NODE_TYPES})", name="ck_dependency_from_type"),
        sa.CheckConstraint(f"to_type IN ({NODE_TYPES})", name="ck_dependency_to_type"),
        sa.CheckConstraint(
            "relation IN ('depends_on', 'provides', 'interface')", name="ck_dependency_relation"
        ),
        sa.CheckConstraint(
            "NOT (from_type = to_type AND from_id = to_id)", name="ck_dependency_not_self"
        ),
        sa.UniqueConstraint(
            "org_id", "from_type", "from_id", "to_type", "to_id", name="uq_dependency_edge"
        ),
    )
    op.create_index("ix_dependency_org_id", "dependency", ["org_id"])
    op.create_index("ix_dependency_from", "dependency", ["from_type", "from_id"])
    op.create_index("ix_dependency_to", "dependency", ["to_type", "to_id"])
    op.create_table(
        "interface",
        *_tenant_columns(),
        sa.Column("from_type", sa.Text, nullable=False),
        sa.Column("from_id", UUID(as_uuid=True), nullable=False),
        sa.Column("to_type", sa.Text, nullable=False),
        sa.Column("to_id", UUID(as_uuid=True), nullable=False),
        sa.Column("direction", sa.Text, nullable=False),
        sa.Column("data_exchanged", JSONB, nullable=False),
        sa.Column("protocol", sa.Text),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.CheckConstraint(f"from_type IN ({NODE_TYPES})", name="ck_interface_from_type"),
        sa.CheckConstraint(f"to_type IN ({NODE_TYPES})", name="ck_interface_to_type"),
        sa.CheckConstraint("direction IN ('in', 'out', 'both')", name="ck_interface_direction"),
    )
    op.create_index("ix_interface_org_id", "interface", ["org_id"])
    op.create_index("ix_interface_from", "interface", ["from_type", "from_id"])
    op.create_index("ix_interface_to", "interface", ["to_type", "to_id"])
    for table in TABLES:
        for stmt in rls_statements(table):
            op.execute(stmt)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
