"""Impact assessment flow (send back, reject, withdraw, reopen); SoA proposals from the
organisation's AI roles and its in-scope, live systems (vendors and provenance in the projection).

Revision ID: 20261128_impact_flow
Revises: 20261128_classification_v2
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.db import rls_statements

revision = "20261128_impact_flow"
down_revision = "20261128_classification_v2"
branch_labels = None
depends_on = None

STATUSES_BEFORE = "'draft', 'in_review', 'approved', 'superseded'"
STATUSES = STATUSES_BEFORE + ", 'rejected', 'withdrawn'"
FLOW_COLUMNS = (
    ("returned_by", sa.Text),
    ("returned_at", sa.DateTime(timezone=True)),
    ("return_reason", sa.Text),
    ("rejected_by", sa.Text),
    ("rejected_at", sa.DateTime(timezone=True)),
    ("rejection_reason", sa.Text),
    ("withdrawn_by", sa.Text),
    ("withdrawn_at", sa.DateTime(timezone=True)),
    ("withdrawal_reason", sa.Text),
)


def upgrade() -> None:
    # Impact assessments: two more end states and who moved them there, and why.
    op.drop_constraint("status", "impact_assessment", type_="check")
    op.create_check_constraint("status", "impact_assessment", f"status IN ({STATUSES})")
    for name, type_ in FLOW_COLUMNS:
        op.add_column("impact_assessment", sa.Column(name, type_))

    # The systems projection learns who supplies a system.
    op.add_column("system", sa.Column("vendor_id", UUID(as_uuid=True)))
    op.add_column("system", sa.Column("provenance", sa.Text))

    # The organisation-level AI roles (``aims.inventory.organisation_ai_roles.updated``).
    op.create_table(
        "organisation_ai_roles",
        sa.Column("org_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("roles", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("source_version", sa.Integer, nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
    )
    for stmt in rls_statements("organisation_ai_roles"):
        op.execute(stmt)


def downgrade() -> None:
    op.drop_table("organisation_ai_roles")
    op.drop_column("system", "provenance")
    op.drop_column("system", "vendor_id")
    for name, _ in reversed(FLOW_COLUMNS):
        op.drop_column("impact_assessment", name)
    # The older schema knows neither end state: a rejected or withdrawn assessment is a draft.
    op.execute(
        "UPDATE impact_assessment SET status = 'draft' WHERE status IN ('rejected', 'withdrawn')"
    )
    op.drop_constraint("status", "impact_assessment", type_="check")
    op.create_check_constraint("status", "impact_assessment", f"status IN ({STATUSES_BEFORE})")
