"""Register: the date a system was last reviewed, and an index for listing a vendor's systems.

Imports match rows without an ``id`` on the case-folded name (documented in
``services/inventory/imports/service.py``); names are deliberately not unique in the register
(two teams may run systems of the same name), so no constraint is added: an import refuses a name
that more than one system carries instead.

Revision ID: 20261128_register_upsert
Revises: 20261128_audit
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261128_register_upsert"
down_revision = "20261128_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ai_system", sa.Column("last_reviewed_at", sa.Date))
    op.create_index("ix_ai_system_org_vendor", "ai_system", ["org_id", "vendor_id"])


def downgrade() -> None:
    op.drop_index("ix_ai_system_org_vendor", table_name="ai_system")
    op.drop_column("ai_system", "last_reviewed_at")
