"""The consumer that turns every AIMS event into webhook messages for matching subscriptions.

It runs in the event's organisation (row-level security) and in the same transaction as the
inbox record, so an event redelivered by JetStream queues its messages once; the unique
``(subscription_id, event_id)`` makes that hold even for a replayed dead letter.

The events of one fetch share a transaction; the consumer reads an organisation's
subscriptions once per transaction and writes all its messages and their deliveries in one
statement when the transaction commits (see :class:`_Batch`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from gateway.webhooks import retention
from gateway.webhooks.filters import matches_any
from gateway.webhooks.models import WebhookSubscription
from gateway.webhooks.repository import NewMessage, SubscriptionRepository, queue_messages
from gateway.webhooks.service import wake_worker_after_commit
from shared.db import ORG_INFO, ORG_SETTING, utcnow, uuid7
from shared.events import CloudEvent
from shared.events.consumer import EventHandler
from shared.observability import current_traceparent

#: Events about webhook delivery itself: sent only to subscriptions that name them.
WEBHOOK_EVENTS_PREFIX = "aims.gateway.webhook."
#: Internal plumbing never sent to webhooks (API key projections carry key hashes).
INTERNAL_PREFIXES = ("aims.inventory.apikey.",)


def wants(subscription: WebhookSubscription, event: CloudEvent) -> bool:
    """Whether ``subscription`` should receive ``event``.

    ``aims.gateway.webhook.*`` events go only to subscriptions with a filter other than ``*``
    that matches them, and never to the subscription they are about: a failing endpoint must
    not be sent the news of its own failures, again and again.
    """
    if event.type.startswith(INTERNAL_PREFIXES):
        return False
    filters: list[str] = list(subscription.event_types)
    if event.type.startswith(WEBHOOK_EVENTS_PREFIX):
        if str(event.data.get("subscription_id")) == str(subscription.id):
            return False
        filters = [f for f in filters if f != "*"]
    return matches_any(event.type, filters)


@dataclass
class _Batch:
    """What the consumer keeps for one transaction (the events of one fetch, applied together
    by :class:`shared.events.consumer.ConsumerRunner`): each organisation's enabled
    subscriptions, read once; the messages still to be written; the organisations whose
    prune timer was armed. The messages go to the database in one statement per
    organisation just before the transaction commits (:func:`_write_messages`), so an event
    costs no round trip of its own: on a busy event loop every round trip waits for the
    loop, and one per event was what put the webhooks minutes behind the events (issue 12)."""

    transaction: object
    subscriptions: dict[uuid.UUID, list[WebhookSubscription]] = field(default_factory=dict)
    pending: dict[uuid.UUID, list[NewMessage]] = field(default_factory=dict)
    armed: set[uuid.UUID] = field(default_factory=set)


_BATCH_KEY = "gateway.webhooks.batch"


def _batch(session: AsyncSession) -> _Batch:
    """This transaction's :class:`_Batch`, made (with its before-commit hook) on first use."""
    transaction = session.sync_session.get_transaction()
    known = session.info.get(_BATCH_KEY)
    if isinstance(known, _Batch) and known.transaction is transaction:
        return known
    batch = _Batch(transaction=transaction)
    session.info[_BATCH_KEY] = batch

    def before_commit(sync_session: Session) -> None:
        if sync_session.info.get(_BATCH_KEY) is batch:
            del sync_session.info[_BATCH_KEY]
            _write_messages(sync_session, batch)

    sa.event.listen(session.sync_session, "before_commit", before_commit, once=True)
    return batch


def _write_messages(session: Session, batch: _Batch) -> None:
    """Insert the transaction's messages and queue their deliveries, one statement per
    organisation, in the transaction (so with its inbox rows): a rolled-back batch queues
    nothing, and the events are applied again. Runs in the session's before-commit hook,
    inside the async session's greenlet, so the synchronous ``execute`` is the async one."""
    now = utcnow()
    current = session.info.get(ORG_INFO)
    for org_id, messages in batch.pending.items():
        if not messages:
            continue
        if current != str(org_id):
            # webhook_message is under RLS: write each organisation's rows in its own scope.
            current = str(org_id)
            session.info[ORG_INFO] = current
            session.execute(
                sa.text("SELECT set_config(:name, :value, true)"),
                {"name": ORG_SETTING, "value": current},
            )
        session.execute(queue_messages(messages, now))
    batch.pending.clear()


async def queue_webhooks(session: AsyncSession, event: CloudEvent) -> None:
    try:
        org_id = uuid.UUID(event.orgid)
        event_id = uuid.UUID(event.id)
    except ValueError:
        return  # not a tenant event; nothing to deliver
    batch = _batch(session)
    subscriptions = batch.subscriptions.get(org_id)
    if subscriptions is None:
        subscriptions = await SubscriptionRepository(session).enabled(org_id)
        batch.subscriptions[org_id] = subscriptions
    targets = [s for s in subscriptions if wants(s, event)]
    if not targets:
        return
    payload = event.model_dump(mode="json")
    # The consumer's own span (a child of the event's traceparent): the delivery's parent.
    traceparent = current_traceparent()
    batch.pending.setdefault(org_id, []).extend(
        NewMessage(
            id=uuid7(),
            org_id=org_id,
            subscription_id=sub.id,
            event_id=event_id,
            event_type=event.type,
            payload=payload,
            traceparent=traceparent,
        )
        for sub in targets
    )
    if org_id not in batch.armed:
        batch.armed.add(org_id)
        await retention.arm(session, org_id, utcnow())
        wake_worker_after_commit(session)


HANDLERS = [EventHandler(name="webhooks", subjects=["aims.>"], handle=queue_webhooks)]
