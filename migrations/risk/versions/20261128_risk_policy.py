"""Organisation risk policy settings (self-acceptance, full impact assessments).

Revision ID: 20261128_risk_policy
Revises: 20261128_audit
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from shared.db import rls_statements

revision = "20261128_risk_policy"
down_revision = "20261128_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "risk_policy",
        sa.Column("org_id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "require_impact_assessment_for_all_high_risk",
            sa.Boolean,
            nullable=False,
            server_default=sa.false(),
        ),
        sa.Column("allow_self_acceptance", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
    )
    for stmt in rls_statements("risk_policy"):
        op.execute(stmt)


def downgrade() -> None:
    op.drop_table("risk_policy")
