"""Internal audit programme, audits, findings, nonconformities, corrective actions (9.2, 10.2).

Revision ID: 20261128_internal_audit
Revises: 20261128_objectives
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.db import rls_statements

revision = "20261128_internal_audit"
down_revision = "20261128_objectives"
branch_labels = None
depends_on = None

TABLES = ("audit_programme", "audit", "finding", "nonconformity", "corrective_action")
AUDIT_STATUSES = ("planned", "in_progress", "completed", "cancelled")
FINDING_KINDS = (
    "major_nonconformity",
    "minor_nonconformity",
    "observation",
    "opportunity_for_improvement",
)
FINDING_STATUSES = ("open", "closed")
SEVERITIES = ("major", "minor")
NONCONFORMITY_STATUSES = (
    "open",
    "correction_done",
    "action_planned",
    "awaiting_verification",
    "closed",
)
ACTION_STATUSES = ("planned", "implemented", "verified_effective", "verified_ineffective", "closed")
VERIFICATION_METHODS = ("follow_up_audit", "record_review", "observation", "test", "other")


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


def _jsonb_list(name: str) -> sa.Column[object]:
    return sa.Column(name, JSONB, nullable=False, server_default=sa.text("'[]'::jsonb"))


def upgrade() -> None:
    op.create_table(
        "audit_programme",
        *_entity_columns(),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.CheckConstraint("period_end >= period_start", name="period_ordered"),
    )
    op.create_index("ix_audit_programme_org_period", "audit_programme", ["org_id", "period_start"])

    op.create_table(
        "audit",
        *_entity_columns(),
        sa.Column(
            "programme_id",
            UUID(as_uuid=True),
            sa.ForeignKey("audit_programme.id", ondelete="RESTRICT"),
        ),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("criteria", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("planned_start", sa.Date, nullable=False),
        sa.Column("planned_end", sa.Date, nullable=False),
        sa.Column("started_on", sa.Date),
        sa.Column("completed_on", sa.Date),
        sa.Column("cancelled_at", sa.DateTime(timezone=True)),
        _jsonb_list("clauses"),
        _jsonb_list("controls"),
        _jsonb_list("systems"),
        sa.Column("lead_auditor", sa.Text, nullable=False),
        _jsonb_list("auditors"),
        _jsonb_list("evidence_sampled"),
        sa.Column("conclusion", sa.Text, nullable=False),
        sa.CheckConstraint(f"status IN {AUDIT_STATUSES!r}", name="status_known"),
        sa.CheckConstraint("planned_end >= planned_start", name="planned_ordered"),
    )
    op.create_index("ix_audit_org_programme", "audit", ["org_id", "programme_id"])
    op.create_index("ix_audit_org_status", "audit", ["org_id", "status"])

    op.create_table(
        "finding",
        *_entity_columns(),
        sa.Column(
            "audit_id",
            UUID(as_uuid=True),
            sa.ForeignKey("audit.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        _jsonb_list("links"),
        sa.Column("raised_by", sa.Text, nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(f"kind IN {FINDING_KINDS!r}", name="kind_known"),
        sa.CheckConstraint(f"status IN {FINDING_STATUSES!r}", name="status_known"),
    )
    op.create_index("ix_finding_audit_id", "finding", ["audit_id", "id"])
    op.create_index("ix_finding_org_kind_status", "finding", ["org_id", "kind", "status"])
    op.create_index("ix_finding_links", "finding", ["links"], postgresql_using="gin")

    op.create_table(
        "nonconformity",
        *_entity_columns(),
        sa.Column(
            "finding_id", UUID(as_uuid=True), sa.ForeignKey("finding.id", ondelete="RESTRICT")
        ),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("owner", sa.Text),
        sa.Column("due_date", sa.Date),
        sa.Column("correction", sa.Text),
        sa.Column("correction_done_on", sa.Date),
        _jsonb_list("root_cause_whys"),
        sa.Column("root_cause", sa.Text),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("closed_by", sa.Text),
        sa.CheckConstraint(f"severity IN {SEVERITIES!r}", name="severity_known"),
        sa.CheckConstraint(f"status IN {NONCONFORMITY_STATUSES!r}", name="status_known"),
    )
    op.create_index("ix_nonconformity_org_status", "nonconformity", ["org_id", "status"])
    op.create_index(
        "uq_nonconformity_finding",
        "nonconformity",
        ["finding_id"],
        unique=True,
        postgresql_where=sa.text("finding_id IS NOT NULL"),
    )

    op.create_table(
        "corrective_action",
        *_entity_columns(),
        sa.Column(
            "nonconformity_id",
            UUID(as_uuid=True),
            sa.ForeignKey("nonconformity.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("implemented_at", sa.DateTime(timezone=True)),
        sa.Column("implemented_by", sa.Text),
        sa.Column("implementation_notes", sa.Text, nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True)),
        sa.Column("verified_on", sa.Date),
        sa.Column("verified_by", sa.Text),
        sa.Column("verification_method", sa.Text),
        sa.Column("verification_notes", sa.Text, nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("overdue_notified_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(f"status IN {ACTION_STATUSES!r}", name="status_known"),
        sa.CheckConstraint(
            f"verification_method IS NULL OR verification_method IN {VERIFICATION_METHODS!r}",
            name="verification_method_known",
        ),
    )
    op.create_index(
        "ix_corrective_action_nonconformity", "corrective_action", ["nonconformity_id", "id"]
    )
    op.create_index(
        "ix_corrective_action_org_status_due",
        "corrective_action",
        ["org_id", "status", "due_date"],
    )

    for table in TABLES:
        for statement in rls_statements(table):
            op.execute(statement)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
