"""Events that never stall: parked outbox rows, retention indexes (issue 10).

Revision ID: 20261129_events
Revises: 20261129_hostile
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "20261129_events"
down_revision = "20261129_hostile"
branch_labels = None
depends_on = None

# The toolkit tables' changes as SQL text (migrations never build tables from live model code).
TOOLKIT_UP: tuple[str, ...] = (
    # A row the relay can never publish is parked (kept, listed as a dead letter, replayable)
    # instead of blocking every later event of the service.
    "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS parked_at TIMESTAMP WITH TIME ZONE",
    "CREATE INDEX IF NOT EXISTS ix_outbox_parked ON outbox (seq) WHERE parked_at IS NOT NULL",
    # Retention: the pruning job deletes by age.
    "CREATE INDEX IF NOT EXISTS ix_inbox_processed_at ON inbox (processed_at)",
    "CREATE INDEX IF NOT EXISTS ix_idempotency_key_created_at ON idempotency_key (created_at)",
    # ``idempotency_key`` is under row-level security; the retention job (no organisation set)
    # may read and delete only rows older than the cut-off it names in ``aims.prune_before``.
    "CREATE POLICY retention_prune_read ON idempotency_key FOR SELECT "
    "USING (created_at < NULLIF(current_setting('aims.prune_before', true), '')::timestamptz)",
    "CREATE POLICY retention_prune ON idempotency_key FOR DELETE "
    "USING (created_at < NULLIF(current_setting('aims.prune_before', true), '')::timestamptz)",
)

TOOLKIT_DOWN: tuple[str, ...] = (
    "DROP POLICY IF EXISTS retention_prune ON idempotency_key",
    "DROP POLICY IF EXISTS retention_prune_read ON idempotency_key",
    "DROP INDEX IF EXISTS ix_idempotency_key_created_at",
    "DROP INDEX IF EXISTS ix_inbox_processed_at",
    "DROP INDEX IF EXISTS ix_outbox_parked",
    "ALTER TABLE outbox DROP COLUMN IF EXISTS parked_at",
)


def upgrade() -> None:
    for statement in TOOLKIT_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in TOOLKIT_DOWN:
        op.execute(statement)
