"""EU AI Act classification: exceptions, roles, several Annex III points.

Stored classifications stay readable as they are (the answers of the former questionnaire are
still accepted; the new result fields have defaults), so no row is rewritten. But duties the
former procedure listed were not always the law's (e.g. Art. 27 for every deployer of a
high-risk system, Art. 22 for every provider, Art. 50 for every role), so every current
classification that lists any duty or exemption (route other than ``none``) is asked to be
reclassified, naming the reason ``eu_ai_act_procedure_v2``; ``GET /v1/classifications/needed``
shows them.

Revision ID: 20261128_classification_v2
Revises: 20261128_risk_policy
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "20261128_classification_v2"
down_revision = "20261128_risk_policy"
branch_labels = None
depends_on = None

REASON = "eu_ai_act_procedure_v2"


def upgrade() -> None:
    # Row-level security is forced on the table: lift it for this one data change (the
    # migration acts for every organisation), then put it back.
    op.execute("ALTER TABLE classification NO FORCE ROW LEVEL SECURITY")
    op.execute(
        f"""
        UPDATE classification
        SET reclassification_requested_at = COALESCE(reclassification_requested_at, now()),
            reclassification_facts = CASE
                WHEN reclassification_facts ? '{REASON}' THEN reclassification_facts
                ELSE reclassification_facts || '["{REASON}"]'::jsonb
            END
        WHERE is_current AND route <> 'none'
        """
    )
    op.execute("ALTER TABLE classification FORCE ROW LEVEL SECURITY")


def downgrade() -> None:
    op.execute("ALTER TABLE classification NO FORCE ROW LEVEL SECURITY")
    op.execute(
        f"""
        UPDATE classification
        SET reclassification_facts = reclassification_facts - '{REASON}',
            reclassification_requested_at = CASE
                WHEN reclassification_facts - '{REASON}' = '[]'::jsonb THEN NULL
                ELSE reclassification_requested_at
            END
        WHERE reclassification_facts ? '{REASON}'
        """
    )
    op.execute("ALTER TABLE classification FORCE ROW LEVEL SECURITY")
