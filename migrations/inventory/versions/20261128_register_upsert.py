"""Register: last review date, natural keys for import upsert.

Revision ID: 20261128_register_upsert
Revises: 20261128_audit
Create Date: 2026-11-28
"""

from __future__ import annotations

revision = "20261128_register_upsert"
down_revision = "20261128_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the imports work


def downgrade() -> None:
    pass
