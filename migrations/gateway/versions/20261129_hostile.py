"""Hostile input hardening (placeholder; issue 10).

Revision ID: 20261129_hostile
Revises: 20261128_audit
Create Date: 2026-11-29
"""

from __future__ import annotations

revision = "20261129_hostile"
down_revision = "20261128_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
