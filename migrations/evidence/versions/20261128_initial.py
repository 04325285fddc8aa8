"""Initial evidence schema: toolkit tables, the projection of AI systems and evidence files,
under RLS.

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
    op.create_table(
        "evidence_file",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("system_id", UUID(as_uuid=True), nullable=False),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("content_type", sa.Text, nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("blob_key", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("size_bytes >= 0", name="size_not_negative"),
    )
    op.create_index("ix_evidence_file_system_id_id", "evidence_file", ["system_id", "id"])
    for table in ("system", "evidence_file"):
        for stmt in rls_statements(table):
            op.execute(stmt)


def downgrade() -> None:
    op.drop_table("evidence_file")
    op.drop_table("system")
    for statement in TOOLKIT_DOWN:
        op.execute(statement)
