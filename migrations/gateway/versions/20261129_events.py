"""Events that never stall: parked outbox rows, retention indexes (issue 10).

Revision ID: 20261129_events
Revises: 20261128_audit
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

from migrations.toolkit_20261129 import EVENTS_DOWN, EVENTS_UP

revision = "20261129_events"
down_revision = "20261128_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in EVENTS_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in EVENTS_DOWN:
        op.execute(statement)
