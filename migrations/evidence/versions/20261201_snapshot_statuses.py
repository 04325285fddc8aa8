"""Readiness snapshots keep the clause and control statuses, so readiness asked as of an
earlier time says per clause and per control what it said then. Snapshots taken before hold
none (empty lists).

Revision ID: 20261201_snapshot_statuses
Revises: 20261130_review_sources
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "20261201_snapshot_statuses"
down_revision = "20261130_review_sources"
branch_labels = None
depends_on = None

TABLE = "readiness_snapshot"


def upgrade() -> None:
    for column in ("clauses", "controls"):
        op.add_column(
            TABLE,
            sa.Column(column, JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        )


def downgrade() -> None:
    for column in ("clauses", "controls"):
        op.drop_column(TABLE, column)
