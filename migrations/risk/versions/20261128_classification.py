"""Risk: classification (placeholder until filled).

Revision ID: 20261128_classification
Revises: 20261128_register
Create Date: 2026-11-28
"""

from __future__ import annotations

revision = "20261128_classification"
down_revision = "20261128_register"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
