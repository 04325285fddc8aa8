"""Objectives, measurements and management reviews (6.2, 9.1, 9.3).

Revision ID: 20261128_objectives
Revises: 20261128_audit
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.db import rls_statements

revision = "20261128_objectives"
down_revision = "20261128_audit"
branch_labels = None
depends_on = None

TABLES = ("objective", "objective_measurement", "management_review", "management_review_action")


def _entity_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "objective",
        *_entity_columns(),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("clauses", JSONB, nullable=False),
        sa.Column("controls", JSONB, nullable=False),
        sa.Column("measure", sa.Text, nullable=False),
        sa.Column("unit", sa.Text, nullable=False),
        sa.Column("target_value", sa.Double, nullable=False),
        sa.Column("direction", sa.Text, nullable=False),
        sa.Column("baseline", sa.Double),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latest_value", sa.Double),
        sa.Column("latest_measured_on", sa.Date),
        sa.Column("on_target", sa.Boolean),
        sa.Column("measurement_count", sa.Integer, nullable=False),
        sa.CheckConstraint("direction IN ('at_least', 'at_most')", name="direction_known"),
        sa.CheckConstraint(
            "status IN ('active', 'achieved', 'missed', 'withdrawn')", name="status_known"
        ),
    )
    op.create_index("ix_objective_org_on_target", "objective", ["org_id", "on_target"])
    op.create_index("ix_objective_org_status", "objective", ["org_id", "status"])

    op.create_table(
        "objective_measurement",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column(
            "objective_id",
            UUID(as_uuid=True),
            sa.ForeignKey("objective.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("value", sa.Double, nullable=False),
        sa.Column("measured_on", sa.Date, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("recorded_by", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_objective_measurement_time",
        "objective_measurement",
        ["objective_id", "measured_on", "id"],
    )

    op.create_table(
        "management_review",
        *_entity_columns(),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("review_date", sa.Date, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("held_on", sa.Date),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("attendees", JSONB, nullable=False),
        sa.Column("notes", JSONB, nullable=False),
        sa.Column("prefill", JSONB),
        sa.Column("prefill_as_of", sa.Date),
        sa.Column("prefilled_at", sa.DateTime(timezone=True)),
        sa.Column("decisions", JSONB, nullable=False),
        sa.CheckConstraint("status IN ('planned', 'held', 'closed')", name="status_known"),
    )
    op.create_index("ix_management_review_org_date", "management_review", ["org_id", "review_date"])

    op.create_table(
        "management_review_action",
        *_entity_columns(),
        sa.Column(
            "review_id",
            UUID(as_uuid=True),
            sa.ForeignKey("management_review.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("overdue_notified_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('open', 'done', 'cancelled')", name="status_known"),
    )
    op.create_index(
        "ix_management_review_action_review", "management_review_action", ["review_id", "id"]
    )
    op.create_index(
        "ix_management_review_action_org_status_due",
        "management_review_action",
        ["org_id", "status", "due_date"],
    )

    for table in TABLES:
        for statement in rls_statements(table):
            op.execute(statement)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
