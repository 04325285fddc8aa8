"""Webhook secrets encrypted at rest, no secret in the idempotency table, attempts in flight.

- ``webhook_subscription.secret_key_id`` / ``previous_secret_key_id``: the id of the key that
  encrypted the secret beside it. Existing plaintext secrets are encrypted here (data
  migration) with the keys of ``AIMS_WEBHOOK_SECRET_KEYS`` (gateway/webhooks/secretbox.py); the
  keys are needed only when there are subscriptions to encrypt. Downgrade decrypts them.
- ``idempotency_key``: remembered answers of webhook creates lose their ``secret`` (replays
  answer ``"secret": null``; see docs/guarantees.md).
- ``webhook_attempt.completed_at``: null while an attempt is in flight (written before the
  request is sent); rows written before this revision were completed when recorded.
- ``ix_webhook_message_org_created`` for pruning the delivery log per organisation, and the
  prune timer of every organisation that has messages already (new ones arm it themselves).

Both data steps rewrite rows of every organisation, so they lift the forced row-level security
of their table for this transaction only (``NO FORCE`` … ``FORCE``; DDL is transactional).

Revision ID: 20261129_secrets
Revises: 20261129_events
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261129_secrets"
down_revision = "20261129_events"
branch_labels = None
depends_on = None

# As in gateway/webhooks/retention.py (literal here: a revision must not change later).
PRUNE_TIMER = "webhooks.prune_delivery_log"
PRUNE_ENTITY = "delivery-log"


def _keyring_if_needed(connection: sa.Connection, condition: str) -> object | None:
    """The configured keyring, loaded only when some row needs it."""
    connection.execute(sa.text("ALTER TABLE webhook_subscription NO FORCE ROW LEVEL SECURITY"))
    needed = connection.execute(
        sa.text(f"SELECT EXISTS (SELECT 1 FROM webhook_subscription WHERE {condition})")
    ).scalar_one()
    connection.execute(sa.text("ALTER TABLE webhook_subscription FORCE ROW LEVEL SECURITY"))
    if not needed:
        return None
    from gateway.config import GatewaySettings
    from gateway.webhooks.secretbox import load_keyring

    return load_keyring(GatewaySettings())


def upgrade() -> None:
    from gateway.webhooks.secretbox import SecretKeyring, reencrypt_rows

    op.add_column("webhook_subscription", sa.Column("secret_key_id", sa.Text))
    op.add_column("webhook_subscription", sa.Column("previous_secret_key_id", sa.Text))
    connection = op.get_bind()
    keyring = _keyring_if_needed(connection, "secret_key_id IS NULL")
    if keyring is not None:
        assert isinstance(keyring, SecretKeyring)
        reencrypt_rows(connection, keyring)
    op.alter_column("webhook_subscription", "secret_key_id", nullable=False)

    op.execute("ALTER TABLE idempotency_key NO FORCE ROW LEVEL SECURITY")
    op.execute(
        "UPDATE idempotency_key SET body = jsonb_set(body, '{secret}', 'null'::jsonb) "
        "WHERE jsonb_typeof(body) = 'object' AND body ? 'secret' "
        "AND body->'secret' <> 'null'::jsonb"
    )
    op.execute("ALTER TABLE idempotency_key FORCE ROW LEVEL SECURITY")

    op.add_column(
        "webhook_attempt", sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.execute("ALTER TABLE webhook_attempt NO FORCE ROW LEVEL SECURITY")
    op.execute("UPDATE webhook_attempt SET completed_at = attempted_at")
    op.execute("ALTER TABLE webhook_attempt FORCE ROW LEVEL SECURITY")
    op.create_index(
        "ix_webhook_attempt_in_flight",
        "webhook_attempt",
        ["message_id"],
        postgresql_where=sa.text("completed_at IS NULL"),
    )
    op.create_index("ix_webhook_message_org_created", "webhook_message", ["org_id", "created_at"])
    op.execute("ALTER TABLE webhook_message NO FORCE ROW LEVEL SECURITY")
    op.execute(
        "INSERT INTO timer (org_id, kind, entity_id, due_at, attempts) "
        f"SELECT DISTINCT org_id, '{PRUNE_TIMER}', '{PRUNE_ENTITY}', now(), 0 "
        "FROM webhook_message ON CONFLICT DO NOTHING"
    )
    op.execute("ALTER TABLE webhook_message FORCE ROW LEVEL SECURITY")


def downgrade() -> None:
    from gateway.webhooks.secretbox import SecretKeyring, reencrypt_rows

    op.execute(f"DELETE FROM timer WHERE kind = '{PRUNE_TIMER}'")
    op.drop_index("ix_webhook_message_org_created", table_name="webhook_message")
    op.drop_index("ix_webhook_attempt_in_flight", table_name="webhook_attempt")
    op.drop_column("webhook_attempt", "completed_at")
    op.alter_column("webhook_subscription", "secret_key_id", nullable=True)
    connection = op.get_bind()
    keyring = _keyring_if_needed(connection, "secret_key_id IS NOT NULL")
    if keyring is not None:
        assert isinstance(keyring, SecretKeyring)
        reencrypt_rows(connection, keyring, decrypt_only=True)
    op.drop_column("webhook_subscription", "previous_secret_key_id")
    op.drop_column("webhook_subscription", "secret_key_id")
