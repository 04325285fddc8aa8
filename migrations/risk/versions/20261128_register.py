"""Risk: register (placeholder until filled).

Revision ID: 20261128_register
Revises: 20261128_systems
Create Date: 2026-11-28
"""

from __future__ import annotations

revision = "20261128_register"
down_revision = "20261128_systems"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
