"""The fan-out behind GraphQL subscriptions: one NATS consumer per process, any number of
subscribers.

:class:`EventHub` holds ONE ordered, ephemeral JetStream push consumer (``deliver_policy=new``,
no acks, no server-side state to clean up) on every AIMS subject. Each event is parsed once and
copied into the bounded in-memory queue of every subscriber of the event's organisation whose
topic and filter want it, so 200 subscriptions cost one consumer and one parse per event.

Copying never waits: a subscriber whose queue is full is a client that stopped reading, and it
is dropped (its stream ends with a ``subscriber-too-slow`` error) rather than slowing down
anyone else. Subscriptions are live only: an event published while nobody listened is not
replayed (a client re-reads state through queries after it (re)connects).

The hub also watches ``aims.inventory.apikey.revoked``: a connection authenticated with a key
registers a callback, which the hub calls when that key is revoked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy
from pydantic import ValidationError

from gateway.subscriptions.topics import API_KEY_REVOKED, TOPIC_OF, Topic
from shared.app import ServiceContext
from shared.auth import Principal
from shared.errors import Forbidden
from shared.events import CloudEvent

logger = logging.getLogger("aims.gateway.subscriptions")

#: Where the running gateway keeps its hub (``ctx.extras``).
HUB_KEY = "subscription_hub"
#: Events a subscriber may have waiting before it counts as too slow and is dropped.
QUEUE_SIZE = 256
WORKER_NAME = "subscriptions"


class SubscriberTooSlow(Exception):
    """The subscriber's queue overflowed: it was dropped so that it slows no one else down."""


@dataclass(eq=False)
class Subscriber:
    """One running subscription: its organisation, topic, optional system, and queue."""

    org_id: uuid.UUID
    topic: Topic
    system_id: uuid.UUID | None = None
    queue: asyncio.Queue[CloudEvent] = field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE_SIZE)
    )
    dropped: bool = False

    def wants(self, event: CloudEvent) -> bool:
        if event.type not in self.topic.event_types:
            return False
        return self.system_id is None or self.topic.system_of(event) == self.system_id

    def offer(self, event: CloudEvent) -> bool:
        """Queue ``event`` without waiting; False (and dropped) when the queue is full."""
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped = True
            return False
        return True

    async def next(self) -> CloudEvent:
        """The next event; raises :class:`SubscriberTooSlow` once the subscriber was dropped."""
        if self.dropped:
            raise SubscriberTooSlow
        return await self.queue.get()


RevocationCallback = Callable[[], None]


class EventHub:
    """Fans the event stream out to the subscribers of this process."""

    def __init__(
        self,
        js: JetStreamContext | None,
        *,
        stream: str,
        subject_prefix: str = "",
    ) -> None:
        self.js = js
        self.stream = stream
        self.subject_prefix = subject_prefix
        self._subscribers: dict[str, set[Subscriber]] = {}
        self._revocation_watches: dict[str, set[RevocationCallback]] = {}
        # Keys seen revoked by this process: a connection that authenticated against the
        # projection just before it caught up with the revocation is still ended at once.
        self._revoked_keys: set[str] = set()
        self.events_seen = 0
        self.dropped_total = 0
        # Called with every event, whatever its type or organisation (the GraphQL response
        # cache invalidates on them, gateway/cache.py). ``live`` is true while the consumer is
        # subscribed; ``epoch`` counts its subscriptions (a resubscription may have missed events).
        self.listeners: list[Callable[[CloudEvent], None]] = []
        self.live = False
        self.epoch = 0

    # --- subscribers ------------------------------------------------------------------------

    def subscribe(
        self, principal: Principal, topic: Topic, *, system_id: uuid.UUID | None = None
    ) -> Subscriber:
        """A new subscriber to ``topic`` in the caller's organisation (their role permitting)."""
        if not principal.has_any(topic.roles):
            wanted = ", ".join(sorted(r.value for r in topic.roles))
            raise Forbidden(f"Subscribing to {topic.name} needs one of the roles: {wanted}.")
        subscriber = Subscriber(org_id=principal.org_id, topic=topic, system_id=system_id)
        self._subscribers.setdefault(str(principal.org_id), set()).add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        key = str(subscriber.org_id)
        subscribers = self._subscribers.get(key)
        if subscribers is None:
            return
        subscribers.discard(subscriber)
        if not subscribers:
            del self._subscribers[key]

    @property
    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._subscribers.values())

    def subscribers_in(self, org_id: uuid.UUID) -> int:
        """Live hub subscribers of one organisation (a shared stream counts once)."""
        return len(self._subscribers.get(str(org_id), ()))

    # --- API key revocation -----------------------------------------------------------------

    def watch_revocation(self, principal: Principal, callback: RevocationCallback) -> None:
        """Call ``callback`` when the API key ``principal`` authenticated with is revoked."""
        if principal.subject in self._revoked_keys:
            callback()
            return
        self._revocation_watches.setdefault(principal.subject, set()).add(callback)

    def unwatch_revocation(self, principal: Principal, callback: RevocationCallback) -> None:
        callbacks = self._revocation_watches.get(principal.subject)
        if callbacks is None:
            return
        callbacks.discard(callback)
        if not callbacks:
            del self._revocation_watches[principal.subject]

    # --- the stream -------------------------------------------------------------------------

    def dispatch(self, event: CloudEvent) -> None:
        """Hand ``event`` to every subscriber that wants it; never waits."""
        self.events_seen += 1
        for listener in self.listeners:
            listener(event)
        if event.type == API_KEY_REVOKED:
            self._revoked(event)
            return
        if event.type not in TOPIC_OF:
            return
        subscribers = self._subscribers.get(event.orgid)
        if not subscribers:
            return
        for subscriber in list(subscribers):
            if subscriber.wants(event) and not subscriber.offer(event):
                self.dropped_total += 1
                self.unsubscribe(subscriber)
                logger.warning(
                    "subscriber too slow; dropped",
                    extra={"topic": subscriber.topic.name, "org_id": event.orgid},
                )

    def _revoked(self, event: CloudEvent) -> None:
        key_id = event.data.get("id")
        if str(event.data.get("org_id")) != event.orgid:
            return
        subject = f"apikey:{key_id}"
        self._revoked_keys.add(subject)
        for callback in list(self._revocation_watches.pop(subject, ())):
            callback()

    async def _on_message(self, msg: Msg) -> None:
        try:
            event = CloudEvent.model_validate_json(msg.data)
        except ValidationError:
            return  # not an event; the durable consumers dead-letter it
        self.dispatch(event)

    async def run(self, stop: asyncio.Event) -> None:
        """The supervised worker: consume until ``stop`` is set."""
        if self.js is None:
            await stop.wait()  # no broker configured (nothing will ever be published)
            return
        sub = await self.js.subscribe(
            f"{self.subject_prefix}aims.>",
            stream=self.stream,
            cb=self._on_message,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW,
        )
        self.epoch += 1
        self.live = True
        try:
            await stop.wait()
        finally:
            self.live = False
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    def describe(self) -> dict[str, Any]:
        return {
            "subscribers": self.subscriber_count,
            "events_seen": self.events_seen,
            "dropped_total": self.dropped_total,
        }


def start_subscription_hub(ctx: ServiceContext) -> EventHub:
    """Create the hub, keep it in ``ctx.extras``, and run its consumer under the supervisor.

    Always, not only with ``run_workers``: every process that serves WebSockets needs its own
    fan-out (an API-only replica included). The worker is listed in ``/readyz``.
    """
    settings = ctx.settings
    hub = EventHub(ctx.js, stream=settings.nats_stream, subject_prefix=settings.nats_subject_prefix)
    ctx.extras[HUB_KEY] = hub
    ctx.supervise(WORKER_NAME, hub.run)
    return hub
