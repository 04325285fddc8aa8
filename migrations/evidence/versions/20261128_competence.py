"""Competence and awareness: people, roles, competences, trainings.

Revision ID: 20261128_competence
Revises: 20261128_documented
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from shared.db import rls_statements

revision = "20261128_competence"
down_revision = "20261128_documented"
branch_labels = None
depends_on = None

TABLES = (
    "person",
    "competence",
    "aims_role",
    "aims_role_competence",
    "aims_role_assignment",
    "training",
)


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
        "person",
        *_entity_columns(),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("email", sa.Text),
        sa.Column("email_key", sa.Text),
        sa.Column("department", sa.Text),
        sa.Column("job_title", sa.Text),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("external_ref", sa.Text),
        sa.Column("external_ref_key", sa.Text),
    )
    op.create_index("uq_person_org_email", "person", ["org_id", "email_key"], unique=True)
    op.create_index(
        "uq_person_org_external_ref", "person", ["org_id", "external_ref_key"], unique=True
    )
    op.create_index("ix_person_org_department", "person", ["org_id", "department"])

    op.create_table(
        "competence",
        *_entity_columns(),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("name_key", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("validity_months", sa.Integer),
        sa.Column("awareness", sa.Boolean, nullable=False),
        sa.CheckConstraint(
            "validity_months IS NULL OR validity_months BETWEEN 1 AND 600", name="validity_range"
        ),
    )
    op.create_index("uq_competence_org_name", "competence", ["org_id", "name_key"], unique=True)

    op.create_table(
        "aims_role",
        *_entity_columns(),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("name_key", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("responsibilities", sa.Text, nullable=False),
    )
    op.create_index("uq_aims_role_org_name", "aims_role", ["org_id", "name_key"], unique=True)

    op.create_table(
        "aims_role_competence",
        sa.Column("org_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column(
            "role_id",
            UUID(as_uuid=True),
            sa.ForeignKey("aims_role.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "competence_id",
            UUID(as_uuid=True),
            sa.ForeignKey("competence.id", ondelete="RESTRICT"),
            primary_key=True,
        ),
    )
    op.create_index("ix_aims_role_competence_competence", "aims_role_competence", ["competence_id"])

    op.create_table(
        "aims_role_assignment",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column(
            "role_id",
            UUID(as_uuid=True),
            sa.ForeignKey("aims_role.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "person_id",
            UUID(as_uuid=True),
            sa.ForeignKey("person.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("since", sa.Date, nullable=False),
        sa.Column("until", sa.Date),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("until IS NULL OR until >= since", name="period_ordered"),
    )
    op.create_index(
        "uq_aims_role_assignment_open",
        "aims_role_assignment",
        ["role_id", "person_id"],
        unique=True,
        postgresql_where=sa.text("until IS NULL"),
    )
    op.create_index("ix_aims_role_assignment_person", "aims_role_assignment", ["person_id"])

    op.create_table(
        "training",
        *_entity_columns(),
        sa.Column(
            "person_id",
            UUID(as_uuid=True),
            sa.ForeignKey("person.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column(
            "competence_id",
            UUID(as_uuid=True),
            sa.ForeignKey("competence.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("provider", sa.Text),
        sa.Column("completed_at", sa.Date, nullable=False),
        sa.Column("expires_at", sa.Date),
        sa.Column("expires_at_explicit", sa.Boolean, nullable=False),
        sa.Column("evidence_item_id", UUID(as_uuid=True)),
        sa.Column("evaluation_method", sa.Text),
        sa.Column("evaluation_result", sa.Text, nullable=False),
        sa.Column("evaluated_at", sa.Date),
        sa.Column("evaluated_by", sa.Text),
        sa.Column("evaluation_notes", sa.Text, nullable=False),
        sa.Column("expiring_notified_at", sa.DateTime(timezone=True)),
        sa.Column("expired_notified_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("expires_at IS NULL OR expires_at > completed_at", name="expiry_after"),
        sa.CheckConstraint(
            "evaluation_method IS NULL OR evaluation_method IN "
            "('test', 'observation', 'review', 'other')",
            name="evaluation_method_known",
        ),
        sa.CheckConstraint(
            "evaluation_result IN ('effective', 'partially_effective', 'not_effective', 'pending')",
            name="evaluation_result_known",
        ),
    )
    op.create_index("ix_training_person_competence", "training", ["person_id", "competence_id"])
    op.create_index("ix_training_competence_id", "training", ["competence_id"])
    op.create_index("ix_training_org_expires_at", "training", ["org_id", "expires_at"])

    for table in TABLES:
        for stmt in rls_statements(table):
            op.execute(stmt)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
