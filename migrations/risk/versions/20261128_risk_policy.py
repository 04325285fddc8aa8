"""Organisation risk policy settings (self-acceptance, full impact assessments).

Revision ID: 20261128_risk_policy
Revises: 20261128_audit
Create Date: 2026-11-28
"""

from __future__ import annotations

revision = "20261128_risk_policy"
down_revision = "20261128_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the risk-policy work


def downgrade() -> None:
    pass
