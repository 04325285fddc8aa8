"""Secrets at rest and idempotency without plaintext secrets (placeholder; issue 10).

Revision ID: 20261129_secrets
Revises: 20261129_events
Create Date: 2026-11-29
"""

from __future__ import annotations

revision = "20261129_secrets"
down_revision = "20261129_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
