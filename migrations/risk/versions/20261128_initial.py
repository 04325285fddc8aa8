"""Initial risk schema: toolkit tables and the projection of AI systems, under RLS.

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
        "system",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("lifecycle_stage", sa.Text, nullable=False),
        sa.Column("business_function", sa.Text),
        sa.Column("owner", sa.Text),
        sa.Column("source_version", sa.Integer, nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
    )
    for stmt in rls_statements("system"):
        op.execute(stmt)


def downgrade() -> None:
    op.drop_table("system")
    for statement in TOOLKIT_DOWN:
        op.execute(statement)
