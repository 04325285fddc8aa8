"""Initial inventory schema: toolkit tables, organisations, AI systems, row-level security.

Revision ID: 20261128_initial
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from migrations.toolkit_20261128 import TOOLKIT_DOWN, TOOLKIT_UP
from shared.db import rls_statements

revision = "20261128_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in TOOLKIT_UP:
        op.execute(statement)
    op.create_table(
        "organisation",
        sa.Column("org_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "ai_system",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("owner", sa.Text),
        sa.Column("business_function", sa.Text),
        sa.Column("lifecycle_stage", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ai_system_org_id", "ai_system", ["org_id"])
    op.create_index("ix_ai_system_org_name", "ai_system", ["org_id", "name"])
    for table in ("organisation", "ai_system"):
        for stmt in rls_statements(table):
            op.execute(stmt)


def downgrade() -> None:
    op.drop_table("ai_system")
    op.drop_table("organisation")
    for statement in TOOLKIT_DOWN:
        op.execute(statement)
