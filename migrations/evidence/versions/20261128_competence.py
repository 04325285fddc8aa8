"""Competence and awareness: people, roles, competences, trainings.

Revision ID: 20261128_competence
Revises: 20261128_documented
Create Date: 2026-11-28
"""

from __future__ import annotations

revision = "20261128_competence"
down_revision = "20261128_documented"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the competence work


def downgrade() -> None:
    pass
