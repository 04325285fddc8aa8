"""Risk: the facts of AI systems risk work relies on, and scope membership.

Revision ID: 20261128_systems
Revises: 20261128_initial
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "20261128_systems"
down_revision = "20261128_initial"
branch_labels = None
depends_on = None

EMPTY_LIST = sa.text("'[]'::jsonb")


def upgrade() -> None:
    op.add_column("system", sa.Column("intended_purpose", sa.Text))
    op.add_column("system", sa.Column("description", sa.Text))
    op.add_column("system", sa.Column("sector", sa.Text))
    op.add_column(
        "system", sa.Column("data_inputs", JSONB, nullable=False, server_default=EMPTY_LIST)
    )
    op.add_column("system", sa.Column("ai_roles", JSONB, nullable=False, server_default=EMPTY_LIST))
    op.add_column(
        "system",
        sa.Column("affected_stakeholders", JSONB, nullable=False, server_default=EMPTY_LIST),
    )
    op.add_column("system", sa.Column("in_scope", sa.Boolean))
    op.add_column("system", sa.Column("scope_version", sa.Integer))


def downgrade() -> None:
    for column in (
        "scope_version",
        "in_scope",
        "affected_stakeholders",
        "ai_roles",
        "data_inputs",
        "sector",
        "description",
        "intended_purpose",
    ):
        op.drop_column("system", column)
