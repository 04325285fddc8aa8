"""Risk: EU AI Act classifications, versioned per system, under RLS.

Revision ID: 20261128_classification
Revises: 20261128_register
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.db import rls_statements

revision = "20261128_classification"
down_revision = "20261128_register"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "classification",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False),
        sa.Column(
            "system_id",
            UUID(as_uuid=True),
            sa.ForeignKey(
                "system.id", ondelete="CASCADE", name="fk_classification_system_id_system"
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("is_current", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("tier", sa.Text, nullable=False),
        sa.Column("route", sa.Text, nullable=False),
        sa.Column("answers", JSONB, nullable=False),
        sa.Column("result", JSONB, nullable=False),
        sa.Column("classified_by", sa.Text, nullable=False),
        sa.Column("classified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reclassification_requested_at", sa.DateTime(timezone=True)),
        sa.Column(
            "reclassification_facts", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")
        ),
        sa.UniqueConstraint("system_id", "version", name="uq_classification_system_version"),
    )
    op.create_index("ix_classification_org_id", "classification", ["org_id"])
    op.create_index("ix_classification_system_id", "classification", ["system_id"])
    op.create_index("ix_classification_org_current", "classification", ["org_id", "is_current"])
    op.create_index(
        "uq_classification_current",
        "classification",
        ["system_id"],
        unique=True,
        postgresql_where=sa.text("is_current"),
    )
    for stmt in rls_statements("classification"):
        op.execute(stmt)


def downgrade() -> None:
    op.drop_table("classification")
