"""The delivery worker: claims due deliveries, signs and POSTs them, records every attempt.

One loop per gateway process. It leases due rows of the queue (``FOR UPDATE SKIP LOCKED``, so
several processes share the work), writes the attempts of what it leased in flight, one
transaction per organisation with a fixed number of statements however many it leased (on a
busy event loop every round trip waits for the loop; one transaction per delivery made the
worker a quarter of the gateway's CPU under load, issue 12), then sends each in its own task
(at most :data:`MAX_IN_FLIGHT` at once, so a slow receiver does not hold up the others), and
records the outcome in a transaction scoped to the delivery's organisation: the delivered (2xx)
answers that arrive while another recording is under way are recorded together, one
transaction per organisation with three statements however many (issue 12); the other
outcomes, which may disable an endpoint or emit an event, each in a transaction of its own. It
sleeps until the next delivery is due, at most :data:`POLL_INTERVAL`, and is woken at once when
a transaction of this process queues something (``ctx.extras["webhook_wake"]``).

Every attempt: the subscription's current secrets sign the exact body (Standard Webhooks; the
``webhook-id`` is the message id, the same on every retry); the POST carries a W3C
``traceparent`` (not signed: the signature covers id, timestamp and body only), the context of
the attempt's client span, a child of the trace the delivery was queued in (the consumer of the
event, so the request that committed it), so receivers can join the trace; the URL is resolved
once and checked against the SSRF guard (with the ``webhook_allowed_targets`` allow-list), and
the POST goes to that pinned address, without redirects, with a 10 s timeout.

The delivery log is never wrong, whatever fails when:

1. *Intent.* Before the request is sent, the attempt is written and committed, in flight
   (``completed_at`` null), in the transaction that reads the subscription and the message
   (of every delivery leased together; when that transaction fails, each delivery is read
   and written again on its own, in its task).
2. *Outcome.* After the answer, the attempt is completed and the queue row moves on, in one
   transaction (a 2xx maybe together with other deliveries of the organisation; when that
   transaction fails, each is recorded again on its own), and only then is the delivery done.
   When the transaction fails (the connection died, PostgreSQL restarts), it is tried again
   with back-off, with the answer held in memory, until it commits or the lease runs out: the
   receiver's 200 is not forgotten and the message is not sent again.
3. *Restart.* A worker that dies between 1 and 2 leaves its attempt in flight and its lease
   expires; whichever worker claims the message next first completes that attempt as "outcome
   unknown" and then sends again, with the same ``webhook-id``, so receivers drop the
   duplicate. Every request that may have reached the receiver has its line in the log.

Tests shrink the retry schedule with ``ctx.extras["webhook_schedule_scale"]`` (a factor applied
to every delay, ``Retry-After`` included; 1.0, the specification's schedule, by default).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.webhooks import retention, service
from gateway.webhooks.events import (
    DELIVERY_FAILED,
    ENDPOINT_DISABLED,
    DeliveryFailedData,
    EndpointDisabledData,
)
from gateway.webhooks.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookMessage,
    WebhookSubscription,
)
from gateway.webhooks.repository import (
    AttemptOutcome,
    ClaimedDelivery,
    DeliveryQueue,
    FinishedDelivery,
    MessageRepository,
    SubscriptionRepository,
)
from gateway.webhooks.schedule import (
    classify_response,
    next_attempt_delay,
    parse_retry_after,
    should_disable,
)
from gateway.webhooks.secretbox import KeySettings, WebhookKeyError, load_keyring
from gateway.webhooks.signing import signature_headers
from gateway.webhooks.ssrf import (
    UnresolvableWebhookTarget,
    UnsafeWebhookTarget,
    delivery_client,
    post_pinned,
    resolve_target,
)
from shared.app import ServiceContext
from shared.db import Database, tenant_transaction, utcnow, uuid7
from shared.events import emit, make_event
from shared.observability import (
    Metrics,
    child_traceparent,
    current_traceparent,
    traceparent_var,
)
from shared.telemetry import client_span

logger = logging.getLogger("aims.webhooks")

WAKE_KEY = "webhook_wake"
SCALE_KEY = "webhook_schedule_scale"
WORKER_KEY = "webhook_worker"
#: Lease length in seconds (tests shorten it to see an abandoned attempt taken over).
LEASE_KEY = "webhook_lease_seconds"

USER_AGENT = "AIMS-Webhooks/1"
HTTP_TIMEOUT = 10.0
RESOLVE_TIMEOUT = 5.0
POLL_INTERVAL = 1.0
MAX_IN_FLIGHT = 32
#: A claimed row is someone else's to retry after this (a worker that died mid-attempt).
#: Longer than resolution + request timeouts, so a live worker always finishes first.
LEASE = timedelta(seconds=60)
EXCERPT_CHARS = 1024
#: Pauses between tries to record an outcome whose transaction failed (the last repeats).
RECORD_BACKOFF = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
UNKNOWN_OUTCOME = (
    "outcome unknown: the delivery worker did not record the receiver's answer (it stopped, "
    "or lost the database for longer than its lease); sent again with the same webhook-id"
)


def start_delivery_worker(ctx: ServiceContext) -> None:
    """Wire webhooks into a running gateway; start the worker unless workers are off.

    Call from the app's startup hook. Registers the SSRF allow-list
    (``settings.webhook_allowed_targets``) for subscription creation, puts the wake event in
    ``ctx.extras["webhook_wake"]``, and runs the worker under the app's supervisor (restarted
    when it crashes, listed in ``/readyz``); it ends when ``ctx.stop`` is set.
    """
    allow = list(getattr(ctx.settings, "webhook_allowed_targets", None) or [])
    service.configure(allowed_targets=allow, keyring=load_keyring(cast(KeySettings, ctx.settings)))
    retention.configure(
        timedelta(days=float(getattr(ctx.settings, "webhook_log_retention_days", 30.0)))
    )
    wake = ctx.extras.setdefault(WAKE_KEY, asyncio.Event())
    service.register_waker(wake)
    ctx.extras.setdefault(SCALE_KEY, 1.0)
    if not ctx.settings.run_workers:
        return
    worker = DeliveryWorker(
        ctx.db, allow=allow, extras=ctx.extras, stop=ctx.stop, wake=wake, telemetry=ctx.metrics
    )
    ctx.extras[WORKER_KEY] = worker
    ctx.supervise("webhook-delivery", lambda _stop: worker.run())


@dataclass(frozen=True)
class _Snapshot:
    """What one attempt needs, read in the org's transaction before the request is sent."""

    message_id: uuid.UUID
    subscription_id: uuid.UUID
    attempt_id: uuid.UUID
    url: str
    secrets: tuple[str, ...]
    payload: dict[str, Any]
    event_id: uuid.UUID
    event_type: str
    #: Why nothing can be signed (a secret under a key no longer configured): a failed attempt.
    unsignable: str | None = None


@dataclass(frozen=True)
class _Result:
    status_code: int | None
    excerpt: str | None
    error: str | None
    duration_ms: int
    retry_after: str | None


def _storable(text: str) -> str:
    """``text`` as PostgreSQL ``text`` can hold it: NUL (which it refuses, so the attempt could
    never be recorded and the message would be sent again) becomes U+FFFD, as bytes that do
    not decode already have."""
    return text.replace("\x00", "\ufffd")


@dataclass(frozen=True)
class _Answered:
    """An attempt sent and answered (or failed to send): what is recorded of it."""

    claim: ClaimedDelivery
    snap: _Snapshot
    result: _Result

    @property
    def outcome(self) -> str:
        """``delivered``, ``disable`` or ``retry`` (:func:`classify_response`; no answer is
        a failure to retry)."""
        status = self.result.status_code
        return "retry" if status is None else classify_response(status)

    @property
    def counted_as(self) -> str:
        """Its outcome in ``aims_webhook_attempts_total``: ``delivered``, ``rejected`` (another
        status) or ``unreachable`` (no answer)."""
        if self.result.status_code is None:
            return "unreachable"
        return "delivered" if self.outcome == "delivered" else "rejected"

    def attempt(self, next_attempt_at: datetime | None) -> AttemptOutcome:
        return AttemptOutcome(
            attempt_id=self.snap.attempt_id,
            status_code=self.result.status_code,
            response_excerpt=self.result.excerpt,
            error=self.result.error,
            duration_ms=self.result.duration_ms,
            next_attempt_at=next_attempt_at,
        )

    def finished(self, state: str, next_attempt_at: datetime | None) -> FinishedDelivery:
        return FinishedDelivery(self.claim, state, self.claim.attempt_count + 1, next_attempt_at)


class _RecordedTogether:
    """Delivered answers recorded together (a group commit).

    An answer that arrives while no recording is under way is recorded at once, by the task
    that brought it; those that arrive while one is under way wait, and when it ends, one of
    them records all of them, per organisation one transaction (``store``). Each task learns
    whether its answer is stored; when the transaction it was in failed, it records its
    answer on its own (one bad row fails alone). A leading task's span is the parent of the
    statements it runs for the others.
    """

    def __init__(self, store: Callable[[Sequence[_Answered]], Awaitable[set[uuid.UUID]]]) -> None:
        #: Records answers of one or more organisations; the attempt ids that it stored.
        self._store = store
        #: Answers not yet taken into a recording, with the turn their task waits for: True
        #: or False (stored, or not: record it alone), or None (lead the next recording).
        self.waiting: list[tuple[_Answered, asyncio.Future[bool | None]]] = []
        self.recording = False

    async def record(self, answered: _Answered) -> bool:
        """Whether ``answered`` is stored; False: the transaction it was recorded in failed."""
        turn: asyncio.Future[bool | None] = asyncio.get_running_loop().create_future()
        self.waiting.append((answered, turn))
        if self.recording:
            try:
                stored = await turn
            except asyncio.CancelledError:
                # Not recorded, unless a recording took it already: its lease expires.
                self.waiting = [e for e in self.waiting if e[1] is not turn]
                if turn.done() and not turn.cancelled() and turn.result() is None:
                    self._hand_over()  # it was this task's turn to lead: the next one's now
                raise
            if stored is not None:
                return stored
        self.recording = True
        batch, self.waiting = self.waiting, []
        done: set[uuid.UUID] = set()
        try:
            done = await self._store([a for a, _ in batch])
        finally:
            for other, waiter in batch:
                if not waiter.done():
                    waiter.set_result(other.snap.attempt_id in done)
            self._hand_over()
        return answered.snap.attempt_id in done

    def _hand_over(self) -> None:
        for _, turn in self.waiting:
            if not turn.done():
                turn.set_result(None)
                return
        self.recording = False


class DeliveryWorker:
    def __init__(
        self,
        db: Database,
        *,
        allow: Sequence[str],
        extras: dict[str, Any],
        stop: asyncio.Event,
        wake: asyncio.Event,
        telemetry: object = None,
    ) -> None:
        self.db = db
        #: The app's telemetry owner (its ``Metrics``): spans of deliveries when tracing is on.
        self.telemetry = telemetry
        self.allow = list(allow)
        self.extras = extras
        self.stop = stop
        self.wake = wake
        self.in_flight: set[asyncio.Task[None]] = set()
        self.client: httpx.AsyncClient | None = None
        self.delivered = _RecordedTogether(self._store_delivered_together)

    @property
    def scale(self) -> float:
        value = self.extras.get(SCALE_KEY, 1.0)
        return float(value) if isinstance(value, int | float) and value >= 0 else 1.0

    @property
    def lease(self) -> timedelta:
        value = self.extras.get(LEASE_KEY)
        if isinstance(value, int | float) and value > 0:
            return timedelta(seconds=float(value))
        return LEASE

    async def run(self) -> None:
        async with delivery_client() as client:
            self.client = client
            try:
                while not self.stop.is_set():
                    self.wake.clear()
                    pause = POLL_INTERVAL
                    try:
                        claimed = await self._claim_and_start()
                        pause = 0.0 if claimed else await self._until_next_due()
                    except Exception:
                        logger.exception("webhook delivery loop failed")
                    if pause > 0:
                        await self._sleep(pause)
            finally:
                await self._drain()

    async def _sleep(self, seconds: float) -> None:
        waiters = [
            asyncio.ensure_future(self.wake.wait()),
            asyncio.ensure_future(self.stop.wait()),
        ]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _drain(self) -> None:
        if self.in_flight:
            _, pending = await asyncio.wait(self.in_flight, timeout=5)
            for task in pending:
                task.cancel()  # its lease expires; the delivery is attempted again later

    async def _claim_and_start(self) -> int:
        slots = MAX_IN_FLIGHT - len(self.in_flight)
        if slots <= 0:
            return 0
        async with self.db.sessions() as session, session.begin():
            claims = await DeliveryQueue(session).claim(limit=slots, now=utcnow(), lease=self.lease)
        by_org: dict[uuid.UUID, list[ClaimedDelivery]] = {}
        for claim in claims:
            by_org.setdefault(claim.org_id, []).append(claim)
        for org_id, group in by_org.items():
            snapshots: dict[uuid.UUID, _Snapshot | None] | None
            try:
                snapshots = await self._snapshots(org_id, group)
            except Exception:
                # Each is read again on its own, in its task (one bad row fails alone).
                logger.warning("reading claimed webhook deliveries together failed", exc_info=True)
                snapshots = None
            for claim in group:
                if snapshots is not None and snapshots.get(claim.message_id) is None:
                    continue  # nothing to send (deleted, or its subscription is disabled)
                snapshot = None if snapshots is None else snapshots[claim.message_id]
                task = asyncio.create_task(
                    self.deliver(claim, snapshot), name=f"webhook-{claim.message_id}"
                )
                self.in_flight.add(task)
                task.add_done_callback(self._done)
        return len(claims)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.in_flight.discard(task)
        self.wake.set()  # a retry may now be due sooner than the loop planned

    async def _until_next_due(self) -> float:
        """Seconds until the next pending delivery is due (at most the poll interval)."""
        due_at = sa.func.min(
            sa.func.greatest(
                WebhookDelivery.next_attempt_at,
                sa.func.coalesce(WebhookDelivery.locked_until, WebhookDelivery.next_attempt_at),
            )
        )
        async with self.db.sessions() as session:
            nxt = (
                await session.execute(sa.select(due_at).where(WebhookDelivery.state == "pending"))
            ).scalar_one_or_none()
        if not isinstance(nxt, datetime):
            return POLL_INTERVAL
        return min(POLL_INTERVAL, max(0.01, (nxt - utcnow()).total_seconds()))

    async def deliver(self, claim: ClaimedDelivery, snapshot: _Snapshot | None = None) -> None:
        """Send one claimed delivery and record the outcome; ``snapshot``: its attempt, read
        and written in flight already (:meth:`_snapshots`), or None to do that here."""
        # One client span per attempt, child of the trace the delivery was queued in; active
        # while the attempt is read, sent and recorded (its SQL is its child), and the context
        # the logs and the POST's traceparent carry.
        span = client_span(
            self.telemetry,
            "POST webhook",
            claim.traceparent,
            {
                "http.request.method": "POST",
                "aims.org_id": str(claim.org_id),
                "webhook.message_id": str(claim.message_id),
                "webhook.subscription_id": str(claim.subscription_id),
                "webhook.attempt": claim.attempt_count + 1,
            },
        )
        token = traceparent_var.set(span.traceparent or child_traceparent(claim.traceparent))
        try:
            if snapshot is None:
                snapshot = await self._snapshot(claim)
            if snapshot is None:
                return
            target = httpx.URL(snapshot.url)
            # Scheme and host only: a URL's path or query may hold the receiver's token.
            span.annotate(
                {
                    "url.scheme": target.scheme,
                    "server.address": target.host,
                    "cloudevents.event_type": snapshot.event_type,
                }
            )
            answered = _Answered(claim, snapshot, await self._send(snapshot))
            result = answered.result
            if isinstance(self.telemetry, Metrics):
                self.telemetry.webhook_attempts.labels(
                    self.telemetry.service, answered.counted_as
                ).inc()
            failed = result.error or (
                None if answered.outcome == "delivered" else f"HTTP {result.status_code}"
            )
            span.annotate(
                {"http.response.status_code": result.status_code, "error.type": result.error},
                error=failed,
            )
            await self._record_until_stored(answered)
        except Exception as exc:
            span.fail(exc)
            logger.exception(
                "webhook delivery failed unexpectedly; retried when its lease expires",
                extra={"message_id": str(claim.message_id)},
            )
        finally:
            traceparent_var.reset(token)
            span.end()

    async def _record_until_stored(self, answered: _Answered) -> None:
        """Record the outcome; when its transaction fails, try again until the lease ends.

        A delivered answer is first recorded together with the others that arrive meanwhile
        (:class:`_RecordedTogether`); if that transaction fails, on its own, as any other.
        The request has been answered: giving up here would leave the attempt in flight and
        send the message again, so a lost connection or a restarting database is waited out.
        """
        if answered.outcome == "delivered" and await self.delivered.record(answered):
            return
        tries = 0
        while True:
            try:
                await self._record(answered)
                return
            except Exception as exc:
                pause = RECORD_BACKOFF[min(tries, len(RECORD_BACKOFF) - 1)]
                tries += 1
                if utcnow() + timedelta(seconds=pause) >= answered.claim.locked_until:
                    raise
                logger.warning(
                    "recording a webhook attempt failed; trying again in %.2fs",
                    pause,
                    extra={
                        "message_id": str(answered.snap.message_id),
                        "attempt_id": str(answered.snap.attempt_id),
                        "error": type(exc).__name__,
                    },
                )
                await asyncio.sleep(pause)

    async def _snapshots(
        self, org_id: uuid.UUID, claims: Sequence[ClaimedDelivery]
    ) -> dict[uuid.UUID, _Snapshot | None]:
        """:meth:`_snapshot` of the claimed deliveries of one organisation, in one transaction
        and a fixed number of statements, whatever their number: every attempt is written in
        flight and committed before any of them is sent. Per message id, its snapshot, or
        None when there is nothing to send."""
        now = utcnow()
        ids = [claim.message_id for claim in claims]
        out: dict[uuid.UUID, _Snapshot | None] = {}
        async with tenant_transaction(self.db, org_id) as session:
            messages = MessageRepository(session)
            found = await messages.get_many(ids)
            subs = await SubscriptionRepository(session).get_many(
                [claim.subscription_id for claim in claims]
            )
            # Attempts still in flight are those whose worker died before recording the answer
            # (their lease has expired, or these claims would not exist).
            resolved = await messages.resolve_in_flight_many(ids, now, UNKNOWN_OUTCOME)
            numbers = await messages.next_attempt_numbers(ids)
            for claim in claims:
                message = found.get(claim.message_id)
                sub = subs.get(claim.subscription_id)
                if message is None or sub is None:
                    out[claim.message_id] = None  # deleted meanwhile (the queue row went too)
                    continue
                if resolved.get(message.id):
                    logger.warning(
                        "webhook attempt outcome unknown; sending again",
                        extra={"message_id": str(message.id), "attempts": resolved[message.id]},
                    )
                if not sub.enabled:
                    await DeliveryQueue(session).finish(
                        claim,
                        state="failed",
                        attempt_count=claim.attempt_count,
                        next_attempt_at=None,
                        now=now,
                    )
                    out[claim.message_id] = None
                    continue
                out[claim.message_id] = self._new_attempt(
                    messages, claim, message, sub, numbers[message.id], now
                )
        return out

    def _new_attempt(
        self,
        messages: MessageRepository,
        claim: ClaimedDelivery,
        message: WebhookMessage,
        sub: WebhookSubscription,
        number: int,
        now: datetime,
    ) -> _Snapshot:
        """Add the attempt ``number`` of ``message``, in flight, to the session; its snapshot."""
        unsignable: str | None = None
        try:
            secrets = service.active_secrets(sub, now)
        except WebhookKeyError as exc:
            secrets, unsignable = [], f"not sent: {exc}"
        attempt = WebhookAttempt(
            id=uuid7(),
            org_id=claim.org_id,
            message_id=message.id,
            attempt=number,
            attempted_at=now,
            completed_at=None,
            status_code=None,
            response_excerpt=None,
            error=None,
            duration_ms=0,
            next_attempt_at=None,
        )
        messages.add_attempt(attempt)
        return _Snapshot(
            message_id=message.id,
            subscription_id=sub.id,
            attempt_id=attempt.id,
            url=sub.url,
            secrets=tuple(secrets),
            payload=dict(message.payload),
            event_id=message.event_id,
            event_type=message.event_type,
            unsignable=unsignable,
        )

    async def _snapshot(self, claim: ClaimedDelivery) -> _Snapshot | None:
        """One delivery read and its attempt written in flight in a transaction of its own
        (:meth:`_snapshots` of one claim: one code path for both)."""
        return (await self._snapshots(claim.org_id, [claim]))[claim.message_id]

    async def _send(self, snap: _Snapshot) -> _Result:
        assert self.client is not None
        if snap.unsignable is not None:
            return _Result(None, None, snap.unsignable, 0, None)
        body = json.dumps(snap.payload, separators=(",", ":"), ensure_ascii=False).encode()
        headers = signature_headers(str(snap.message_id), int(time.time()), body, snap.secrets)
        headers["content-type"] = "application/json"
        headers["user-agent"] = USER_AGENT
        if traceparent := current_traceparent():
            headers["traceparent"] = traceparent  # not signed; receivers may join the trace
        started = time.monotonic()

        def elapsed() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            target = await resolve_target(
                snap.url, allow=self.allow, resolve_timeout=RESOLVE_TIMEOUT
            )
            response = await post_pinned(self.client, target, body, headers, HTTP_TIMEOUT)
        except UnsafeWebhookTarget as exc:
            return _Result(None, None, f"refused by the SSRF guard: {exc.reason}", elapsed(), None)
        except UnresolvableWebhookTarget as exc:
            return _Result(None, None, exc.reason, elapsed(), None)
        except httpx.TimeoutException:
            return _Result(None, None, f"timed out after {HTTP_TIMEOUT:g} s", elapsed(), None)
        except httpx.HTTPError as exc:
            error = _storable(f"{type(exc).__name__}: {exc}"[:500])
            return _Result(None, None, error, elapsed(), None)
        try:
            excerpt: str | None = _storable(response.text[:EXCERPT_CHARS])
        except Exception:
            excerpt = None
        return _Result(
            response.status_code,
            excerpt,
            None,
            elapsed(),
            response.headers.get("retry-after"),
        )

    async def _record(self, answered: _Answered) -> None:
        """Record one answer in a transaction of its own."""
        now = utcnow()
        async with tenant_transaction(self.db, answered.claim.org_id) as session:
            if answered.outcome == "delivered":
                await self._store_delivered(session, [answered], now)
                state = "delivered"
            else:
                state = await self._store_failure(session, answered, now)
        _log_finished(answered, state)

    async def _store_delivered_together(self, batch: Sequence[_Answered]) -> set[uuid.UUID]:
        """Record delivered answers, one transaction per organisation; the attempt ids of
        those whose transaction committed."""
        by_org: dict[uuid.UUID, list[_Answered]] = {}
        for answered in batch:
            by_org.setdefault(answered.claim.org_id, []).append(answered)
        stored: set[uuid.UUID] = set()
        for org_id, group in by_org.items():
            try:
                async with tenant_transaction(self.db, org_id) as session:
                    await self._store_delivered(session, group, utcnow())
            except Exception:
                logger.warning(
                    "recording delivered webhook attempts together failed; each on its own",
                    exc_info=True,
                    extra={"org_id": str(org_id), "attempts": len(group)},
                )
                continue
            stored.update(answered.snap.attempt_id for answered in group)
            for answered in group:
                _log_finished(answered, "delivered")
        return stored

    async def _store_delivered(
        self, session: AsyncSession, group: Sequence[_Answered], now: datetime
    ) -> None:
        """Delivered answers of one organisation, in its transaction: three statements
        however many (their subscriptions healthy, the attempts completed, the queue rows
        delivered unless their claim was superseded)."""
        await SubscriptionRepository(session).mark_healthy(
            [answered.snap.subscription_id for answered in group]
        )
        await self._complete(session, [(answered, "delivered", None) for answered in group], now)

    async def _complete(
        self,
        session: AsyncSession,
        rows: Sequence[tuple[_Answered, str, datetime | None]],
        now: datetime,
    ) -> set[uuid.UUID]:
        """Complete the attempts and move their queue rows on (state, next attempt); the
        message ids whose claim was still current."""
        org_id = rows[0][0].claim.org_id
        await MessageRepository(session).complete_attempts(
            [answered.attempt(next_at) for answered, _, next_at in rows], now
        )
        return await DeliveryQueue(session).finish_many(
            org_id,
            [answered.finished(state, next_at) for answered, state, next_at in rows],
            now=now,
        )

    async def _store_failure(
        self, session: AsyncSession, answered: _Answered, now: datetime
    ) -> str:
        """A failed attempt (no answer, or not 2xx), in its organisation's transaction: the
        subscription's failure run, the next attempt or the end (disabled, abandoned, with
        their events). Returns the state the message is left in."""
        claim, snap, result = answered.claim, answered.snap, answered.result
        count = claim.attempt_count + 1
        subs = SubscriptionRepository(session)
        next_at: datetime | None = None
        disable_reason: str | None = None
        first_failure = await subs.mark_failing(snap.subscription_id, now)
        if answered.outcome == "disable":
            state = "failed"
            disable_reason = "the endpoint answered 410 Gone"
        elif should_disable(first_failure, now):
            state = "failed"
            assert first_failure is not None
            disable_reason = (
                f"every attempt failed since {first_failure.isoformat(timespec='seconds')}"
            )
        else:
            retry_after = parse_retry_after(result.retry_after, now)
            delay = next_attempt_delay(count + 1, retry_after=retry_after)
            if delay is None:
                state = "abandoned"
            else:
                state = "pending"
                next_at = now + timedelta(seconds=delay * self.scale)
        current = claim.message_id in await self._complete(
            session, [(answered, state, next_at)], now
        )
        if disable_reason is not None:
            await self._disable(session, claim, snap, disable_reason, first_failure, now)
        if state == "abandoned" and current:
            await emit(
                session,
                make_event(
                    DELIVERY_FAILED,
                    org_id=claim.org_id,
                    subject=snap.message_id,
                    version=count,
                    data=DeliveryFailedData(
                        message_id=snap.message_id,
                        subscription_id=snap.subscription_id,
                        url=snap.url,
                        event_id=snap.event_id,
                        event_type=snap.event_type,
                        attempts=count,
                        last_status_code=result.status_code,
                        last_error=result.error,
                        abandoned_at=now,
                    ),
                ),
            )
        return state

    async def _disable(
        self,
        session: AsyncSession,
        claim: ClaimedDelivery,
        snap: _Snapshot,
        reason: str,
        first_failure: datetime | None,
        now: datetime,
    ) -> None:
        sub = await SubscriptionRepository(session).disable(snap.subscription_id, reason, now)
        if sub is None:
            return  # already disabled (by a concurrent attempt or a user)
        await DeliveryQueue(session).fail_outstanding(
            org_id=claim.org_id, subscription_id=snap.subscription_id, now=now
        )
        await emit(
            session,
            make_event(
                ENDPOINT_DISABLED,
                org_id=claim.org_id,
                subject=sub.id,
                version=sub.version,
                data=EndpointDisabledData(
                    subscription_id=sub.id,
                    url=sub.url,
                    reason=reason,
                    disabled_at=now,
                    first_failure_at=first_failure,
                ),
            ),
        )
        logger.warning(
            "webhook endpoint disabled",
            extra={"subscription_id": str(sub.id), "reason": reason},
        )


def _log_finished(answered: _Answered, state: str) -> None:
    if state != "pending":
        logger.info(
            "webhook message %s",
            state,
            extra={
                "message_id": str(answered.snap.message_id),
                "attempts": answered.claim.attempt_count + 1,
            },
        )
