"""Webhooks: subscriptions, messages, the delivery log (all under RLS) and the delivery queue.

Revision ID: 20261128_webhooks
Revises: 20261128_initial
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.db import rls_statements

revision = "20261128_webhooks"
down_revision = "20261128_initial"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "webhook_subscription",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("event_types", JSONB, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("previous_secret", sa.Text),
        sa.Column("previous_secret_expires_at", TS),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("disabled_reason", sa.Text),
        sa.Column("disabled_at", TS),
        sa.Column("first_failure_at", TS),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_webhook_subscription_org_id", "webhook_subscription", ["org_id"])

    op.create_table(
        "webhook_message",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False),
        sa.Column(
            "subscription_id",
            UUID(as_uuid=True),
            sa.ForeignKey(
                "webhook_subscription.id",
                ondelete="CASCADE",
                name="fk_webhook_message_subscription_id_webhook_subscription",
            ),
            nullable=False,
        ),
        sa.Column("event_id", UUID(as_uuid=True), nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("subscription_id", "event_id", name="uq_webhook_message_sub_event"),
    )
    op.create_index("ix_webhook_message_org_id", "webhook_message", ["org_id"])
    op.create_index(
        "ix_webhook_message_sub_created", "webhook_message", ["subscription_id", "created_at"]
    )

    op.create_table(
        "webhook_attempt",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False),
        sa.Column(
            "message_id",
            UUID(as_uuid=True),
            sa.ForeignKey(
                "webhook_message.id",
                ondelete="CASCADE",
                name="fk_webhook_attempt_message_id_webhook_message",
            ),
            nullable=False,
        ),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("attempted_at", TS, nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("response_excerpt", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TS),
        sa.UniqueConstraint("message_id", "attempt", name="uq_webhook_attempt_message_attempt"),
    )
    op.create_index("ix_webhook_attempt_org_id", "webhook_attempt", ["org_id"])

    # The delivery queue: deliberately WITHOUT row-level security. The worker claims due rows
    # of every organisation in one `FOR UPDATE SKIP LOCKED` query; the rows hold ids and
    # scheduling state only (no URL, secret or payload), the API never exposes the table and
    # filters on org_id explicitly, and the worker reads the tenant rows behind a claimed row
    # in a transaction scoped to that row's org. See gateway/webhooks/models.py.
    op.create_table(
        "webhook_delivery",
        sa.Column(
            "message_id",
            UUID(as_uuid=True),
            sa.ForeignKey(
                "webhook_message.id",
                ondelete="CASCADE",
                name="fk_webhook_delivery_message_id_webhook_message",
            ),
            primary_key=True,
        ),
        sa.Column(
            "subscription_id",
            UUID(as_uuid=True),
            sa.ForeignKey(
                "webhook_subscription.id",
                ondelete="CASCADE",
                name="fk_webhook_delivery_subscription_id_webhook_subscription",
            ),
            nullable=False,
        ),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False),
        sa.Column("attempt_count", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TS),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("locked_until", TS),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'delivered', 'failed', 'abandoned')",
            name="ck_webhook_delivery_state",
        ),
    )
    op.create_index(
        "ix_webhook_delivery_due",
        "webhook_delivery",
        ["next_attempt_at"],
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_index(
        "ix_webhook_delivery_org_sub", "webhook_delivery", ["org_id", "subscription_id"]
    )

    for table in ("webhook_subscription", "webhook_message", "webhook_attempt"):
        for stmt in rls_statements(table):
            op.execute(stmt)


def downgrade() -> None:
    op.drop_table("webhook_delivery")
    op.drop_table("webhook_attempt")
    op.drop_table("webhook_message")
    op.drop_table("webhook_subscription")
