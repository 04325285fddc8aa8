"""Batches from a durable JetStream pull consumer, taken without an event-loop turn per message.

nats-py's ``PullSubscription.fetch`` takes each message of a pull with ``next_msg``, which
creates a task and a ``wait_for`` per message: about five turns of the event loop each (counted
in ``tests/shared/test_pull_batches.py``). On a loop busy serving requests a turn can take
0.1-0.3 s, so a batch of 20 took seconds to collect while the events themselves were applied in
milliseconds (docs/performance.md, "Webhooks under load"). Here the messages of a pull land in a
list from the subscription's callback (nats-py calls it for every message it has read, in one
turn), and :meth:`PullBatches.fetch` waits only for the first: what has arrived by then is taken
at once.

The protocol is JetStream's own: a pull is a request to
``$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>`` with our inbox as its reply subject, asking
for up to ``batch`` messages. It lives until it has them all or ``expires``; then the server
answers ``408 Request Timeout``, which closes it (any other status ends it with an error, after
the messages that came before). A pull still open when :meth:`fetch` returns keeps delivering
into the list as events are published, so a new pull is sent only when the last one closed, and
the broker holds about ``batch`` messages at most on their way to us (each one's ``ack_wait``
runs from its delivery). A pull whose closing status was lost (a reconnect) counts as closed
once its ``expires`` has passed.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.errors import APIError

# Status codes of JetStream's answers to a pull (message headers, no body).
_HEARTBEAT = "100"
_CLOSED = frozenset({"404", "408"})  # no messages / the pull expired
# How long one pull lives at most. Short, because a pull outlives a runner that crashed: what
# the broker delivers to it meanwhile waits for ``ack_wait`` to be redelivered.
PULL_EXPIRES_SECONDS = 2.0
# A pull whose closing status never came (lost in a reconnect) counts as closed this long
# after its expiry.
_GRACE_SECONDS = 0.25
# The server answers every pull, at the latest with 408 when it expires. After this many pulls
# in a row with no answer at all, the consumer is taken to be gone (deleted while no pull was
# open, or the server lost it): :class:`ConsumerGone`, so the runner starts again and creates
# it anew.
UNANSWERED_PULLS = 3


class ConsumerGone(Exception):
    """The durable consumer no longer exists: the runner must create it again."""


class PullBatches:
    """Durable ``consumer`` of ``stream``: :meth:`fetch` returns what the pulls delivered."""

    def __init__(
        self,
        nc: NATS,
        stream: str,
        consumer: str,
        *,
        batch: int = 50,
        api_prefix: str = "$JS.API",
        expires: float = PULL_EXPIRES_SECONDS,
    ) -> None:
        self.nc = nc
        self.batch = batch
        self.expires = expires
        self.subject = f"{api_prefix}.CONSUMER.MSG.NEXT.{stream}.{consumer}"
        self.inbox = nc.new_inbox()
        self._arrived: deque[Msg] = deque()
        self._signal = asyncio.Event()
        self._sub: Subscription | None = None
        self._owed = 0  # messages the open pull may still deliver
        self._open_until = 0.0  # monotonic time its ``expires`` ends
        self._answered = True  # whether anything came since the last pull was sent
        self._unanswered = 0  # pulls in a row that got no answer

    async def start(self) -> None:
        self._sub = await self.nc.subscribe(self.inbox, cb=self._on_message)

    async def stop(self) -> None:
        if self._sub is not None:
            await self._sub.unsubscribe()
            self._sub = None

    async def _on_message(self, msg: Msg) -> None:
        self._arrived.append(msg)
        self._answered = True
        self._unanswered = 0
        self._signal.set()

    @property
    def pull_open(self) -> bool:
        return self._owed > 0 and time.monotonic() < self._open_until + _GRACE_SECONDS

    async def _pull(self) -> None:
        if not self._answered:
            self._unanswered += 1
            if self._unanswered >= UNANSWERED_PULLS:
                raise ConsumerGone(f"{self.subject}: {self._unanswered} pulls got no answer")
        self._answered = False
        self._owed = self.batch
        self._open_until = time.monotonic() + self.expires
        request = {"batch": self.batch, "expires": int(self.expires * 1e9)}
        await self.nc.publish(self.subject, json.dumps(request).encode(), reply=self.inbox)

    async def fetch(self, timeout: float = 1.0) -> list[Msg]:
        """The messages delivered (at most ``batch``), waiting up to ``timeout`` for the first;
        an empty list when none came."""
        deadline = time.monotonic() + timeout
        while True:
            taken = self._take()
            if taken:
                return taken
            if not self.pull_open:
                await self._pull()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            self._signal.clear()
            if self._arrived:
                continue
            try:
                async with asyncio.timeout(remaining):
                    await self._signal.wait()
            except TimeoutError:
                return []

    def _take(self) -> list[Msg]:
        taken: list[Msg] = []
        while self._arrived and len(taken) < self.batch:
            msg = self._arrived[0]
            status = msg.headers.get("Status") if msg.headers else None
            if status is None or status in _CLOSED or status == _HEARTBEAT:
                self._arrived.popleft()
                if status is None:
                    self._owed -= 1
                    taken.append(msg)
                elif status in _CLOSED:
                    self._owed = 0
                continue
            if taken:
                break  # the messages before it are handled first; the status next time
            # Anything else ends the pull with an error: a deleted consumer, or what the runner
            # logs and waits out (a 409 "Leadership Change", a 503 while JetStream starts).
            self._arrived.popleft()
            self._owed = 0
            description = str((msg.headers or {}).get("Description", ""))
            if status == "409" and "deleted" in description.lower():
                raise ConsumerGone(f"{self.subject}: {description}")
            raise APIError.from_msg(msg)
        return taken
