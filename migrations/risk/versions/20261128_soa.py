"""Risk: soa (placeholder until filled).

Revision ID: 20261128_soa
Revises: 20261128_impact
Create Date: 2026-11-28
"""

from __future__ import annotations

revision = "20261128_soa"
down_revision = "20261128_impact"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
