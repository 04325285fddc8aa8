"""Components: BOM re-import marks removed components and edges.

Revision ID: 20261128_bom_removal
Revises: 20261128_register_upsert
Create Date: 2026-11-28
"""

from __future__ import annotations

revision = "20261128_bom_removal"
down_revision = "20261128_register_upsert"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the bom work


def downgrade() -> None:
    pass
