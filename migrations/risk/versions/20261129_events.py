"""Events that never stall: parked outbox rows, retention indexes, scope membership (issue 10).

Revision ID: 20261129_events
Revises: 20261128_impact_flow
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

from migrations.toolkit_20261129 import EVENTS_DOWN, EVENTS_UP
from shared.db import rls_statements

revision = "20261129_events"
down_revision = "20261128_impact_flow"
branch_labels = None
depends_on = None

# Scope membership kept apart from the system projection, so that a membership event handled
# before the system's first ``system.*`` event is kept (order-independent projection).
RISK_UP: tuple[str, ...] = (
    "CREATE TABLE scope_membership (\n\tsystem_id UUID NOT NULL, \n\torg_id UUID NOT NULL, "
    "\n\tin_scope BOOLEAN NOT NULL, \n\tscope_version INTEGER NOT NULL, "
    "\n\tsynced_at TIMESTAMP WITH TIME ZONE NOT NULL, "
    "\n\tCONSTRAINT pk_scope_membership PRIMARY KEY (system_id)\n)",
    "CREATE INDEX ix_scope_membership_org_id ON scope_membership (org_id)",
    *rls_statements("scope_membership"),
)


def upgrade() -> None:
    for statement in (*EVENTS_UP, *RISK_UP):
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS scope_membership")
    for statement in EVENTS_DOWN:
        op.execute(statement)
