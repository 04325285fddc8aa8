"""Inventory: context scope (placeholder until filled).

Revision ID: 20261128_context_scope
Revises: 20261128_components
Create Date: 2026-11-28
"""

from __future__ import annotations

revision = "20261128_context_scope"
down_revision = "20261128_components"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
