"""Impact assessment flow (send back, reject, withdraw); SoA proposals.

Revision ID: 20261128_impact_flow
Revises: 20261128_classification_v2
Create Date: 2026-11-28
"""

from __future__ import annotations

revision = "20261128_impact_flow"
down_revision = "20261128_classification_v2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the impact-soa work


def downgrade() -> None:
    pass
