"""Toolkit: hash-chained audit trail and timers.

Revision ID: 20261128_audit
Revises: 20261128_webhooks
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

from shared.audit import create_audit_schema, drop_audit_schema
from shared.scheduler import create_timer_schema, drop_timer_schema

revision = "20261128_audit"
down_revision = "20261128_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_audit_schema(op.get_bind())
    create_timer_schema(op.get_bind())


def downgrade() -> None:
    drop_timer_schema(op.get_bind())
    drop_audit_schema(op.get_bind())
