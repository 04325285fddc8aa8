"""Toolkit: hash-chained audit trail and timers.

Revision ID: 20261128_audit
Revises: 20261128_soa
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

from migrations.toolkit_20261128 import AUDIT_DOWN, AUDIT_UP, TIMER_DOWN, TIMER_UP

revision = "20261128_audit"
down_revision = "20261128_soa"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in (*AUDIT_UP, *TIMER_UP):
        op.execute(statement)


def downgrade() -> None:
    for statement in (*TIMER_DOWN, *AUDIT_DOWN):
        op.execute(statement)
