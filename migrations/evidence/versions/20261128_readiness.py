"""Readiness: projections of risks, impact assessments; snapshots, plan, timeline.

Revision ID: 20261128_readiness
Revises: 20261128_internal_audit
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.db import rls_statements

revision = "20261128_readiness"
down_revision = "20261128_internal_audit"
branch_labels = None
depends_on = None

TABLES = (
    "readiness_risk",
    "readiness_impact_assessment",
    "readiness_snapshot",
    "certification_plan",
    "certification_milestone",
)


def _entity_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "readiness_risk",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("system_id", UUID(as_uuid=True)),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("inherent_level", sa.Text),
        sa.Column("residual_level", sa.Text),
        sa.Column("next_review_at", sa.DateTime(timezone=True)),
        sa.Column("owner", sa.Text),
        sa.Column("source_version", sa.Integer, nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_readiness_risk_org_review",
        "readiness_risk",
        ["org_id", "next_review_at"],
        postgresql_where=sa.text("status <> 'closed'"),
    )
    op.create_table(
        "readiness_impact_assessment",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False),
        sa.Column("system_id", UUID(as_uuid=True), nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True)),
        sa.Column("source_version", sa.Integer, nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_readiness_impact_assessment_system",
        "readiness_impact_assessment",
        ["org_id", "system_id"],
    )
    op.create_table(
        "readiness_snapshot",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("verdict", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("blocker_counts", JSONB, nullable=False),
        sa.Column("blockers", JSONB, nullable=False),
        sa.Column("blockers_total", sa.Integer, nullable=False),
        sa.Column("rules", JSONB, nullable=False),
        sa.Column("trigger", sa.Text, nullable=False),
    )
    op.create_index(
        "ix_readiness_snapshot_org_computed", "readiness_snapshot", ["org_id", "computed_at"]
    )
    op.create_index(
        "uq_readiness_snapshot_org_number", "readiness_snapshot", ["org_id", "number"], unique=True
    )
    op.create_table(
        "certification_plan",
        *_entity_columns(),
        sa.Column("target_kind", sa.Text, nullable=False),
        sa.Column("target_date", sa.Date, nullable=False),
        sa.Column("options", JSONB, nullable=False),
        sa.Column("aims_lead", sa.Text),
        sa.Column("certification_body", sa.Text),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.UniqueConstraint("org_id", name="uq_certification_plan_org"),
        sa.CheckConstraint("target_kind IN ('stage1', 'stage2')", name="target_kind_known"),
    )
    op.create_table(
        "certification_milestone",
        *_entity_columns(),
        sa.Column(
            "plan_id",
            UUID(as_uuid=True),
            sa.ForeignKey("certification_plan.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("ordinal", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("planned_start", sa.Date, nullable=False),
        sa.Column("planned_end", sa.Date, nullable=False),
        sa.Column("done_on", sa.Date),
        sa.Column("overdue_notified_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("org_id", "kind", name="uq_certification_milestone"),
    )
    for table in TABLES:
        for stmt in rls_statements(table):
            op.execute(stmt)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
