"""EU AI Act classification: exceptions, roles, several Annex III points.

Revision ID: 20261128_classification_v2
Revises: 20261128_risk_policy
Create Date: 2026-11-28
"""

from __future__ import annotations

revision = "20261128_classification_v2"
down_revision = "20261128_risk_policy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the classification work


def downgrade() -> None:
    pass
