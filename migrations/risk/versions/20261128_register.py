"""Risk: versioned risk matrices, review cadences, the risk register and its history.

Revision ID: 20261128_register
Revises: 20261128_systems
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.db import rls_statements

revision = "20261128_register"
down_revision = "20261128_systems"
branch_labels = None
depends_on = None

EMPTY_LIST = sa.text("'[]'::jsonb")
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "risk_matrix",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("preset", sa.Text),
        sa.Column("definition", JSONB, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.UniqueConstraint("org_id", "number", name="uq_risk_matrix_org_id"),
    )
    op.create_table(
        "risk_review_cadence",
        sa.Column("org_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("days_by_level", JSONB, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
    )
    op.create_table(
        "risk",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("system_id", UUID(as_uuid=True)),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("domain_id", sa.Text, nullable=False),
        sa.Column("subdomain_id", sa.Text, nullable=False),
        sa.Column("entity", sa.Text, nullable=False),
        sa.Column("intent", sa.Text, nullable=False),
        sa.Column("timing", sa.Text, nullable=False),
        sa.Column("affected_stakeholders", JSONB, nullable=False, server_default=EMPTY_LIST),
        sa.Column("lifecycle_stage", sa.Text),
        sa.Column("fundamental_rights", sa.Boolean, nullable=False),
        sa.Column("matrix_version", sa.Integer, nullable=False),
        sa.Column("likelihood", sa.Integer, nullable=False),
        sa.Column("severity", sa.Integer, nullable=False),
        sa.Column("inherent_level", sa.Text, nullable=False),
        sa.Column("inherent_rank", sa.Integer, nullable=False),
        sa.Column("residual_likelihood", sa.Integer),
        sa.Column("residual_severity", sa.Integer),
        sa.Column("residual_level", sa.Text),
        sa.Column("residual_rank", sa.Integer),
        sa.Column("assessed_at", TZ, nullable=False),
        sa.Column("next_review_at", TZ),
        sa.Column("treatment", sa.Text),
        sa.Column("treatment_plan", sa.Text),
        sa.Column("owner", sa.Text),
        sa.Column("due_date", sa.Date),
        sa.Column("control_ids", JSONB, nullable=False, server_default=EMPTY_LIST),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("status_before_review", sa.Text),
        sa.Column("above_tolerance", sa.Boolean, nullable=False),
        sa.Column("missing_controls", sa.Boolean, nullable=False),
        sa.Column("accepted_by", sa.Text),
        sa.Column("accepted_at", TZ),
        sa.Column("acceptance_rationale", sa.Text),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
    )
    # Keyset pages of the register are ordered by id within one org; the filtered variants
    # most used (status, system, residual level) get their own (org_id, …, id) indexes.
    op.create_index("ix_risk_org_id_id", "risk", ["org_id", "id"])
    op.create_index("ix_risk_org_id_system_id", "risk", ["org_id", "system_id", "id"])
    op.create_index("ix_risk_org_id_status", "risk", ["org_id", "status", "id"])
    op.create_index("ix_risk_org_id_residual_level", "risk", ["org_id", "residual_level", "id"])
    op.create_index(
        "ix_risk_org_id_next_review_at",
        "risk",
        ["org_id", "next_review_at"],
        postgresql_where=sa.text("status <> 'closed'"),
    )
    op.create_index("ix_risk_org_id_domain_id", "risk", ["org_id", "domain_id", "id"])
    # The flagged list ("above tolerance, not accepted") is the register's to-do list.
    op.create_index(
        "ix_risk_org_id_above_tolerance",
        "risk",
        ["org_id", "id"],
        postgresql_where=sa.text("above_tolerance"),
    )
    op.create_index("ix_risk_control_ids", "risk", ["control_ids"], postgresql_using="gin")
    op.create_table(
        "risk_history",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False),
        sa.Column(
            "risk_id",
            UUID(as_uuid=True),
            sa.ForeignKey("risk.id", ondelete="CASCADE", name="fk_risk_history_risk_id_risk"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("changed_by", sa.Text, nullable=False),
        sa.Column("changed_at", TZ, nullable=False),
        sa.Column("state", JSONB, nullable=False),
    )
    op.create_index("ix_risk_history_risk_id", "risk_history", ["risk_id", "version"])
    for table in ("risk_matrix", "risk_review_cadence", "risk", "risk_history"):
        for stmt in rls_statements(table):
            op.execute(stmt)


def downgrade() -> None:
    op.drop_table("risk_history")
    op.drop_table("risk")
    op.drop_table("risk_review_cadence")
    op.drop_table("risk_matrix")
