"""Risk: the Statement of Applicability (entries per Annex A control) and its versions.

Revision ID: 20261128_soa
Revises: 20261128_impact
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.db import rls_statements

revision = "20261128_soa"
down_revision = "20261128_impact"
branch_labels = None
depends_on = None

EMPTY_LIST = sa.text("'[]'::jsonb")
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "soa_entry",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("control_id", sa.Text, nullable=False),
        sa.Column("applicable", sa.Boolean, nullable=False),
        sa.Column("justification", sa.Text),
        sa.Column("implementation_status", sa.Text, nullable=False),
        sa.Column("owner", sa.Text),
        sa.Column("notes", sa.Text),
        sa.Column("decision", sa.Text, nullable=False),
        sa.Column("proposal_reason", sa.Text),
        sa.Column("decided_by", sa.Text),
        sa.Column("decided_at", TZ),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.UniqueConstraint("org_id", "control_id", name="uq_soa_entry_org_id"),
        # Every exclusion carries its justification (6.1.3), whatever writes the row.
        sa.CheckConstraint(
            "applicable OR coalesce(btrim(justification), '') <> ''",
            name="ck_soa_entry_exclusion_justified",
        ),
        sa.CheckConstraint(
            "implementation_status IN "
            "('not_started', 'planned', 'in_progress', 'implemented', 'not_applicable')",
            name="ck_soa_entry_implementation_status",
        ),
        sa.CheckConstraint("decision IN ('proposed', 'decided')", name="ck_soa_entry_decision"),
    )
    op.create_table(
        "soa_version",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("entries", JSONB, nullable=False, server_default=EMPTY_LIST),
        sa.Column("note", sa.Text),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("approved_at", TZ),
        sa.Column("approved_by", sa.Text),
        sa.Column("superseded_at", TZ),
        sa.UniqueConstraint("org_id", "number", name="uq_soa_version_org_id"),
        sa.CheckConstraint(
            "status IN ('draft', 'approved', 'superseded')", name="ck_soa_version_status"
        ),
    )
    # Exactly one current (approved) version per organisation.
    op.create_index(
        "uq_soa_version_one_approved",
        "soa_version",
        ["org_id"],
        unique=True,
        postgresql_where=sa.text("status = 'approved'"),
    )
    for table in ("soa_entry", "soa_version"):
        for stmt in rls_statements(table):
            op.execute(stmt)


def downgrade() -> None:
    op.drop_table("soa_version")
    op.drop_table("soa_entry")
