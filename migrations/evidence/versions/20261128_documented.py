"""Documented information: SoA and scope projections, requests.

Revision ID: 20261128_documented
Revises: 20261128_items
Create Date: 2026-11-28
"""

from __future__ import annotations

revision = "20261128_documented"
down_revision = "20261128_items"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the documented work


def downgrade() -> None:
    pass
