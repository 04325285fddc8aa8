"""Webhook tables: subscriptions, messages, attempts (tenant-owned, under RLS) and the queue.

``webhook_delivery`` is the one table here *without* row-level security, on purpose: it is the
work queue of the delivery worker, which claims due rows of every organisation at once with
``FOR UPDATE SKIP LOCKED`` (a per-org claim would need one query per org, every second). It
holds only ids, scheduling state and a W3C trace context, never tenant content (URL, secret,
payload). It is never exposed by the API, and every API query that touches it filters on
``org_id`` explicitly. The worker reads the subscription and the message of a claimed row in a
transaction scoped to that row's org (:func:`shared.db.tenant_transaction`), so RLS still
guards all tenant content.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import NAMING_CONVENTION, TYPE_ANNOTATION_MAP, utcnow, uuid7


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = TYPE_ANNOTATION_MAP


#: Delivery states. ``pending``: an attempt is due at ``next_attempt_at`` (first or retry);
#: ``delivered``: a 2xx was received; ``failed``: not delivered because the endpoint was
#: disabled (410 Gone, failing for days, or by a user) -- replay after re-enabling;
#: ``abandoned``: the whole retry schedule was exhausted (``webhook.delivery.failed`` emitted).
DELIVERY_STATES = ("pending", "delivered", "failed", "abandoned")


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscription"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    url: Mapped[str] = mapped_column(sa.Text)
    event_types: Mapped[list[str]] = mapped_column()
    description: Mapped[str] = mapped_column(sa.Text, default="")
    # The current secret signs every delivery; during a rotation the previous one also signs
    # until ``previous_secret_expires_at`` (both signatures in ``webhook-signature``). Both are
    # stored encrypted (secretbox.py), with the id of the key that encrypted each beside it.
    secret_encrypted: Mapped[str] = mapped_column("secret", sa.Text)
    secret_key_id: Mapped[str] = mapped_column(sa.Text)
    previous_secret_encrypted: Mapped[str | None] = mapped_column("previous_secret", sa.Text)
    previous_secret_key_id: Mapped[str | None] = mapped_column(sa.Text)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column()
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(sa.Text)
    disabled_at: Mapped[datetime | None] = mapped_column()
    # Start of the current unbroken run of failed attempts; None while healthy.
    first_failure_at: Mapped[datetime | None] = mapped_column()
    created_by: Mapped[str] = mapped_column(sa.Text)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookMessage(Base):
    """One event to deliver to one subscription; ``id`` is the ``webhook-id`` of every try."""

    __tablename__ = "webhook_message"
    __table_args__ = (
        sa.UniqueConstraint("subscription_id", "event_id", name="uq_webhook_message_sub_event"),
        sa.Index("ix_webhook_message_sub_created", "subscription_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("webhook_subscription.id", ondelete="CASCADE")
    )
    event_id: Mapped[uuid.UUID] = mapped_column()
    event_type: Mapped[str] = mapped_column(sa.Text)
    payload: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookAttempt(Base):
    """The delivery log: one row per HTTP attempt (or per attempt that could not be sent)."""

    __tablename__ = "webhook_attempt"
    __table_args__ = (
        sa.UniqueConstraint("message_id", "attempt", name="uq_webhook_attempt_message_attempt"),
        sa.Index(
            "ix_webhook_attempt_in_flight",
            "message_id",
            postgresql_where=sa.text("completed_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    message_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("webhook_message.id", ondelete="CASCADE")
    )
    attempt: Mapped[int] = mapped_column()
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Null while the attempt is in flight: the row is written before the request is sent and
    # completed with the answer, so a worker that dies in between leaves a trace (worker.py).
    completed_at: Mapped[datetime | None] = mapped_column()
    status_code: Mapped[int | None] = mapped_column()
    response_excerpt: Mapped[str | None] = mapped_column(sa.Text)
    error: Mapped[str | None] = mapped_column(sa.Text)
    duration_ms: Mapped[int] = mapped_column(default=0)
    # When the next attempt is scheduled after this one (None: no further attempt).
    next_attempt_at: Mapped[datetime | None] = mapped_column()


class WebhookDelivery(Base):
    """The delivery queue (one row per message); see the module docstring for why no RLS."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        sa.Index(
            "ix_webhook_delivery_due",
            "next_attempt_at",
            postgresql_where=sa.text("state = 'pending'"),
        ),
        sa.Index("ix_webhook_delivery_org_sub", "org_id", "subscription_id"),
    )

    message_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("webhook_message.id", ondelete="CASCADE"), primary_key=True
    )
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("webhook_subscription.id", ondelete="CASCADE")
    )
    org_id: Mapped[uuid.UUID] = mapped_column()
    # Attempts in the current schedule (a replay starts a new schedule at 0).
    attempt_count: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    state: Mapped[str] = mapped_column(sa.Text, default="pending")
    # Lease of the worker that claimed the row; also its claim token (see worker.py).
    locked_until: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The W3C trace context the delivery was queued in (the consumer applying the event, or
    # the replay request): the worker's delivery span is its child, and the POST carries it.
    traceparent: Mapped[str | None] = mapped_column(sa.Text)
