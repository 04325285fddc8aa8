"""The consumer that turns every AIMS event into webhook messages for matching subscriptions.

It runs in the event's organisation (row-level security) and in the same transaction as the
inbox record, so an event redelivered by JetStream queues its messages once; the unique
``(subscription_id, event_id)`` makes that hold even for a replayed dead letter.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.webhooks import retention
from gateway.webhooks.filters import matches_any
from gateway.webhooks.models import WebhookSubscription
from gateway.webhooks.repository import DeliveryQueue, MessageRepository, SubscriptionRepository
from gateway.webhooks.service import wake_worker_after_commit
from shared.db import utcnow, uuid7
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


async def queue_webhooks(session: AsyncSession, event: CloudEvent) -> None:
    try:
        org_id = uuid.UUID(event.orgid)
        event_id = uuid.UUID(event.id)
    except ValueError:
        return  # not a tenant event; nothing to deliver
    subscriptions = await SubscriptionRepository(session).enabled(org_id)
    targets = [s for s in subscriptions if wants(s, event)]
    if not targets:
        return
    now = utcnow()
    payload = event.model_dump(mode="json")
    messages = MessageRepository(session)
    queue = DeliveryQueue(session)
    queued = False
    for sub in targets:
        message_id = await messages.insert_if_new(
            {
                "id": uuid7(),
                "org_id": org_id,
                "subscription_id": sub.id,
                "event_id": event_id,
                "event_type": event.type,
                "payload": payload,
                "created_at": now,
            }
        )
        if message_id is None:
            continue
        await queue.enqueue(
            message_id=message_id,
            subscription_id=sub.id,
            org_id=org_id,
            now=now,
            # The consumer's own span (a child of the event's traceparent): the delivery's parent.
            traceparent=current_traceparent(),
        )
        queued = True
    if queued:
        await retention.arm(session, org_id, now)
        wake_worker_after_commit(session)


HANDLERS = [EventHandler(name="webhooks", subjects=["aims.>"], handle=queue_webhooks)]
