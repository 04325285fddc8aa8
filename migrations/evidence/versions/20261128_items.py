"""Evidence items, versions, files, blobs and links.

Revision ID: 20261128_items
Revises: 20261128_initial
Create Date: 2026-11-28
"""

from __future__ import annotations

revision = "20261128_items"
down_revision = "20261128_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the items work


def downgrade() -> None:
    pass
