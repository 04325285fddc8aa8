"""Initial gateway schema: the toolkit tables (outbox, inbox, dead letters, idempotency, API keys).

The gateway owns no domain tables of its own here; webhook subscriptions and their delivery log
follow in ``20261128_webhooks``.

Revision ID: 20261128_initial
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

from migrations.toolkit_20261128 import TOOLKIT_DOWN, TOOLKIT_UP

revision = "20261128_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in TOOLKIT_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in TOOLKIT_DOWN:
        op.execute(statement)
