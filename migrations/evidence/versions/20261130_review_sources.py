"""Management reviews: the versions of the organisation's context (4.1 issues, 4.2 interested
parties) and of its risks (6.1) received from the inventory and the risk service, so a review's
inputs are pre-filled as of its date.

Revision ID: 20261130_review_sources
Revises: 20261129_events
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.db import rls_statements

revision = "20261130_review_sources"
down_revision = "20261129_events"
branch_labels = None
depends_on = None

TABLE = "review_source_version"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False),
        sa.Column("entity_type", sa.Text, nullable=False),
        sa.Column("entity_id", UUID(as_uuid=True), nullable=False),
        sa.Column("source_version", sa.Integer, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("data", JSONB, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "entity_type IN ('context_issue', 'interested_party', 'risk')",
            name="entity_type_known",
        ),
        sa.UniqueConstraint(
            "entity_type", "entity_id", "source_version", name="uq_review_source_version"
        ),
    )
    op.create_index(
        "ix_review_source_version_org_type",
        TABLE,
        ["org_id", "entity_type", "entity_id", "changed_at"],
    )
    for statement in rls_statements(TABLE):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table(TABLE)
