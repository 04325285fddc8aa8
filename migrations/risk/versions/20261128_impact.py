"""Risk: AI system impact assessments and their change history, under RLS.

Revision ID: 20261128_impact
Revises: 20261128_classification
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.db import rls_statements

revision = "20261128_impact"
down_revision = "20261128_classification"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "impact_assessment",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("system_id", UUID(as_uuid=True), nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("contents", JSONB, nullable=False),
        sa.Column("next_review_at", sa.Date),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.Column("submitted_by", sa.Text),
        sa.Column("submitted_at", sa.DateTime(timezone=True)),
        sa.Column("approved_by", sa.Text),
        sa.Column("approved_at", sa.DateTime(timezone=True)),
        sa.Column("superseded_by", UUID(as_uuid=True)),
        sa.Column("superseded_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "status IN ('draft', 'in_review', 'approved', 'superseded')", name="status"
        ),
    )
    op.create_index(
        "ix_impact_assessment_org_system", "impact_assessment", ["org_id", "system_id", "id"]
    )
    op.create_index(
        "uq_impact_assessment_approved",
        "impact_assessment",
        ["system_id"],
        unique=True,
        postgresql_where=sa.text("status = 'approved'"),
    )
    op.create_table(
        "impact_assessment_change",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False),
        sa.Column(
            "assessment_id",
            UUID(as_uuid=True),
            sa.ForeignKey("impact_assessment.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("changed_by", sa.Text, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changes", JSONB, nullable=False),
        sa.UniqueConstraint(
            "assessment_id", "version", name="uq_impact_assessment_change_assessment_id"
        ),
    )
    for table in ("impact_assessment", "impact_assessment_change"):
        for stmt in rls_statements(table):
            op.execute(stmt)


def downgrade() -> None:
    op.drop_table("impact_assessment_change")
    op.drop_table("impact_assessment")
