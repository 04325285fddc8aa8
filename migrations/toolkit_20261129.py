"""The toolkit tables' changes of the 2026-11-29 revisions, as SQL text, shared by every service.

Each service's ``20261129_events`` revision applies the same statements to its own copy of the
toolkit tables (outbox, inbox, idempotency keys); keeping them here keeps the four in step.
"""

from __future__ import annotations

EVENTS_UP: tuple[str, ...] = (
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

EVENTS_DOWN: tuple[str, ...] = (
    "DROP POLICY IF EXISTS retention_prune ON idempotency_key",
    "DROP POLICY IF EXISTS retention_prune_read ON idempotency_key",
    "DROP INDEX IF EXISTS ix_idempotency_key_created_at",
    "DROP INDEX IF EXISTS ix_inbox_processed_at",
    "DROP INDEX IF EXISTS ix_outbox_parked",
    "ALTER TABLE outbox DROP COLUMN IF EXISTS parked_at",
)
