"""Idempotent, durable event consumers with bounded redelivery and a dead-letter table.

Each handler gets a durable JetStream pull consumer with explicit ack, read by
:class:`shared.events.pull.PullBatches`. The events of one fetch (up to 50) are applied in order
in one database transaction that also records each ``(consumer, event_id)`` in the inbox table,
so a redelivered event is applied once; they are acknowledged after that transaction commits. If
any of them fails, the transaction is rolled back and each event is handled again in a
transaction of its own, so only the failing one is retried. A failing message is redelivered
with back-off (``nak(delay)``); on its last allowed delivery it is written to the
``dead_letter`` table (which ops list and replay over REST or the CLI) and terminated, so one
poison message never blocks the stream. The relay's parked outbox rows are dead letters too
(consumer ``outbox-relay``); replaying one re-queues it for publication.

An error raised inside the error path itself (``nak``, ``term``, dead-lettering: the broker or
the database gone at that moment) ends :meth:`ConsumerRunner.run`; the service's supervisor
(``shared.supervisor``) restarts it with back-off and ``/readyz`` reports it meanwhile. The
message was not acknowledged, so JetStream delivers it again after ``ack_wait`` (the broker's
``max_deliver`` is unlimited; the runner counts deliveries itself), and dead-lettering is tried
again: a message is never dropped because its error path failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.audit import current_actor, worker_actor
from shared.db import (
    Database,
    dead_letter_table,
    inbox_table,
    set_org,
    tenant_transaction,
    utcnow,
)
from shared.errors import Conflict, NotFound
from shared.events.envelope import CloudEvent
from shared.events.pull import ConsumerGone, PullBatches
from shared.events.relay import RELAY_CONSUMER, requeue_parked
from shared.observability import Metrics, child_traceparent, org_id_var, traceparent_var
from shared.telemetry import consume_span

logger = logging.getLogger("aims.consumer")

HandlerFn = Callable[[AsyncSession, CloudEvent], Awaitable[None]]


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: ``*`` is one token, a final ``>`` one or more tokens."""
    wanted, parts = pattern.split("."), subject.split(".")
    for index, piece in enumerate(wanted):
        if piece == ">":
            return len(parts) > index
        if index >= len(parts) or piece not in ("*", parts[index]):
            return False
    return len(parts) == len(wanted)


@dataclass(frozen=True)
class EventHandler:
    """A named consumer of the event types matching ``subjects`` (NATS wildcards allowed)."""

    name: str
    subjects: Sequence[str]
    handle: HandlerFn


class ConsumerRunner:
    def __init__(
        self,
        db: Database,
        js: JetStreamContext,
        handler: EventHandler,
        *,
        stream: str,
        durable_prefix: str,
        metrics: Metrics,
        subject_prefix: str = "",
        max_deliver: int = 5,
        backoff: Sequence[float] = (1.0, 5.0, 30.0, 120.0),
        ack_wait: float = 30.0,
        batch: int = 50,
    ) -> None:
        self.db = db
        self.js = js
        self.handler = handler
        self.stream = stream
        self.durable = durable_name(durable_prefix, handler)
        self.metrics = metrics
        self.subject_prefix = subject_prefix
        self.max_deliver = max_deliver
        self.backoff = list(backoff) or [1.0]
        self.ack_wait = ack_wait
        self.batch = batch

    async def ensure_consumer(self) -> None:
        subjects = [self.subject_prefix + s for s in self.handler.subjects]
        config = ConsumerConfig(
            durable_name=self.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            # Unlimited at the broker: ``process`` dead-letters after ``max_deliver`` deliveries
            # itself, and a message whose dead-lettering failed (the loop died in its error
            # path) must come back to be dead-lettered, not be dropped by JetStream.
            max_deliver=-1,
            ack_wait=self.ack_wait,
        )
        # One filter subject works on every JetStream server; several need nats-server 2.10+
        # (older servers silently ignore ``filter_subjects`` — ``process`` guards against that).
        if len(subjects) == 1:
            config.filter_subject = subjects[0]
        else:
            config.filter_subjects = subjects
        await self.js.add_consumer(self.stream, config)

    def wants(self, subject: str) -> bool:
        """Whether ``subject`` matches one of this consumer's patterns (NATS wildcards)."""
        return any(
            subject_matches(self.subject_prefix + pattern, subject)
            for pattern in self.handler.subjects
        )

    async def run(self, stop: asyncio.Event) -> None:
        await self.ensure_consumer()
        # nats-py keeps the connection and API prefix of a JetStream context private.
        pulls = PullBatches(
            self.js._nc,
            self.stream,
            self.durable,
            batch=self.batch,
            api_prefix=getattr(self.js, "_prefix", "$JS.API"),
        )
        await pulls.start()
        try:
            while not stop.is_set():
                try:
                    messages = await pulls.fetch(timeout=1.0)
                    if not messages:
                        continue
                except ConsumerGone:
                    raise  # the supervisor runs this again, which creates the consumer anew
                except Exception:
                    if stop.is_set():
                        break
                    logger.warning("fetch failed", exc_info=True, extra={"consumer": self.durable})
                    await asyncio.sleep(1.0)
                    continue
                await self.process_batch(messages)
        finally:
            with contextlib.suppress(Exception):
                await pulls.stop()

    async def process_batch(self, messages: Sequence[Msg]) -> None:
        """Handle a fetched batch in fetch order: the events delivered for the first time in
        one transaction (:meth:`apply_batch`), acknowledged after its COMMIT. A message that
        is not ours, unreadable, or delivered before (it may be the one that failed) is
        handled on its own by :meth:`process`, after the events fetched before it."""
        batch: list[tuple[Msg, CloudEvent]] = []
        for msg in messages:
            event: CloudEvent | None = None
            if (msg.metadata.num_delivered or 1) == 1 and self.wants(msg.subject):
                with contextlib.suppress(ValidationError):
                    event = CloudEvent.model_validate_json(msg.data)
            if event is not None:
                batch.append((msg, event))
                continue
            await self._process_together(batch)
            batch = []
            await self.process(msg)
        await self._process_together(batch)

    async def _process_together(self, batch: Sequence[tuple[Msg, CloudEvent]]) -> None:
        if len(batch) <= 1:
            for msg, _ in batch:
                await self.process(msg)
            return
        try:
            outcomes = await self.apply_batch([event for _, event in batch])
        except Exception:
            # Rolled back as a whole: each event again in a transaction of its own, so that
            # only the failing one is retried (and dead-lettered in the end).
            logger.info(
                "batch failed; applying its events one by one",
                exc_info=True,
                extra={"consumer": self.durable, "events": len(batch)},
            )
            for msg, _ in batch:
                await self.process(msg)
            return
        for (msg, _), applied in zip(batch, outcomes, strict=True):
            await msg.ack()
            self.metrics.events_consumed.labels(
                self.metrics.service, self.handler.name, "applied" if applied else "duplicate"
            ).inc()

    async def apply_batch(self, events: Sequence[CloudEvent]) -> list[bool]:
        """Apply ``events`` in order in one transaction, each once (one inbox row per event,
        inserted in one statement): per event, True when applied, False when the inbox had it.
        Raises (and rolls back every event) when one handler fails."""
        ids = [uuid.UUID(event.id) for event in events]
        async with self.db.sessions() as session, session.begin():
            org = events[0].orgid
            await set_org(session, org)  # with BEGIN, in one round trip
            inserted = await session.execute(
                pg_insert(inbox_table)
                .values(
                    [
                        {"consumer": self.durable, "event_id": i, "processed_at": utcnow()}
                        for i in dict.fromkeys(ids)
                    ]
                )
                .on_conflict_do_nothing()
                .returning(inbox_table.c.event_id)
            )
            new = set(inserted.scalars())
            outcomes: list[bool] = []
            for event, event_id in zip(events, ids, strict=True):
                if event_id not in new:
                    outcomes.append(False)
                    continue
                new.discard(event_id)  # the same event twice in one batch: applied once
                if event.orgid != org:
                    org = event.orgid
                    await set_org(session, org)
                span = consume_span(self.metrics, self.handler.name, event)
                token = traceparent_var.set(
                    span.traceparent or child_traceparent(event.traceparent)
                )
                actor_token = current_actor.set(worker_actor(f"consumer:{self.handler.name}"))
                org_token = org_id_var.set(event.orgid)
                try:
                    await self.handler.handle(session, event)
                    await session.flush()  # the next event's handler reads what this one wrote
                except Exception as exc:
                    span.fail(exc)
                    raise
                finally:
                    org_id_var.reset(org_token)
                    current_actor.reset(actor_token)
                    traceparent_var.reset(token)
                    span.end()
                outcomes.append(True)
        return outcomes

    async def process(self, msg: Msg) -> None:
        if not self.wants(msg.subject):
            # A server that ignored our filter delivered someone else's event: not ours to apply.
            await msg.ack()
            return
        deliveries = msg.metadata.num_delivered or 1
        try:
            event = CloudEvent.model_validate_json(msg.data)
        except ValidationError as exc:
            # Not an event we can read: redelivery cannot help.
            await self._dead_letter(msg, None, None, f"invalid envelope: {exc}", deliveries)
            await msg.term()
            return
        span = consume_span(self.metrics, self.handler.name, event)  # telemetry (no-op when off)
        token = traceparent_var.set(span.traceparent or child_traceparent(event.traceparent))
        actor_token = current_actor.set(worker_actor(f"consumer:{self.handler.name}"))
        org_token = org_id_var.set(event.orgid)
        try:
            applied = await self.apply(event)
            await msg.ack()
            self.metrics.events_consumed.labels(
                self.metrics.service, self.handler.name, "applied" if applied else "duplicate"
            ).inc()
        except Exception as exc:
            span.fail(exc)  # telemetry
            logger.warning(
                "event handling failed",
                exc_info=True,
                extra={"consumer": self.durable, "event_id": event.id, "deliveries": deliveries},
            )
            if deliveries >= self.max_deliver:
                await self._dead_letter(msg, event.id, event.orgid, repr(exc), deliveries)
                await msg.term()
                self.metrics.events_consumed.labels(
                    self.metrics.service, self.handler.name, "dead-lettered"
                ).inc()
            else:
                delay = self.backoff[min(deliveries - 1, len(self.backoff) - 1)]
                await msg.nak(delay=delay)
                self.metrics.events_consumed.labels(
                    self.metrics.service, self.handler.name, "retried"
                ).inc()
        finally:
            org_id_var.reset(org_token)
            current_actor.reset(actor_token)
            traceparent_var.reset(token)
            span.end()  # telemetry

    async def apply(self, event: CloudEvent) -> bool:
        """Apply ``event`` once: returns False when the inbox shows it was applied before."""
        return await apply_once(self.db, self.durable, self.handler, event)

    async def _dead_letter(
        self, msg: Msg, event_id: str | None, org_id: str | None, error: str, deliveries: int
    ) -> None:
        parsed_id: uuid.UUID | None = None
        parsed_org: uuid.UUID | None = None
        with contextlib.suppress(ValueError, TypeError):
            parsed_id = uuid.UUID(event_id) if event_id else None
            parsed_org = uuid.UUID(org_id) if org_id else None
        async with self.db.sessions() as session, session.begin():
            await session.execute(
                dead_letter_table.insert().values(
                    consumer=self.durable,
                    event_id=parsed_id,
                    org_id=parsed_org,
                    subject=msg.subject,
                    payload=msg.data,
                    error=error[:4000],
                    deliveries=deliveries,
                    created_at=utcnow(),
                )
            )
        logger.error("event dead-lettered", extra={"consumer": self.durable, "event_id": event_id})


def durable_name(durable_prefix: str, handler: EventHandler) -> str:
    """The durable consumer name of ``handler`` (also its name in the inbox and dead letters)."""
    return f"{durable_prefix}-{handler.name}".replace(".", "-")


async def apply_once(db: Database, durable: str, handler: EventHandler, event: CloudEvent) -> bool:
    """Apply ``event`` with ``handler`` once per ``durable``: False when the inbox had it.

    Needs no broker connection, so an API-only replica (``AIMS_RUN_WORKERS=false``) can replay
    a dead letter as well as a worker replica.
    """
    async with tenant_transaction(db, event.orgid) as session:
        inserted = await session.execute(
            pg_insert(inbox_table)
            .values(consumer=durable, event_id=uuid.UUID(event.id), processed_at=utcnow())
            .on_conflict_do_nothing()
            .returning(inbox_table.c.event_id)
        )
        if inserted.first() is None:
            return False
        await handler.handle(session, event)
        return True


async def list_dead_letters(
    db: Database, *, org_id: uuid.UUID | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Dead letters, oldest first; of one organisation when ``org_id`` is given (REST)."""
    query = sa.select(dead_letter_table).order_by(dead_letter_table.c.created_at).limit(limit)
    if org_id is not None:
        query = query.where(dead_letter_table.c.org_id == org_id)
    async with db.sessions() as session:
        rows = (await session.execute(query)).mappings()
        return [
            {
                "id": str(r["id"]),
                "consumer": r["consumer"],
                "event_id": str(r["event_id"]) if r["event_id"] else None,
                "org_id": str(r["org_id"]) if r["org_id"] else None,
                "subject": r["subject"],
                "error": r["error"],
                "deliveries": r["deliveries"],
                "created_at": r["created_at"].isoformat(),
                "replayed_at": r["replayed_at"].isoformat() if r["replayed_at"] else None,
            }
            for r in rows
        ]


async def replay_dead_letter(
    db: Database,
    handlers: Mapping[str, EventHandler],
    dead_letter_id: uuid.UUID,
    *,
    org_id: uuid.UUID | None = None,
) -> bool:
    """Run a dead-lettered event through its consumer again; True when it is now applied."""
    query = sa.select(dead_letter_table).where(dead_letter_table.c.id == dead_letter_id)
    if org_id is not None:
        query = query.where(dead_letter_table.c.org_id == org_id)
    async with db.sessions() as session:
        row = (await session.execute(query)).mappings().first()
    if row is None:
        raise NotFound(f"No dead letter {dead_letter_id}.")
    if row["replayed_at"] is not None:
        raise Conflict("This dead letter was already replayed.")
    if row["consumer"] == RELAY_CONSUMER:
        # A parked outbox row: re-queued (with its aggregate's parked rows) for the relay of
        # any replica; it parks again if the broker still cannot take it.
        if row["event_id"] is None or not await requeue_parked(db, row["event_id"]):
            raise Conflict("The parked outbox row is gone or no longer parked.")
        return True
    handler = handlers.get(row["consumer"])
    if handler is None:
        raise NotFound(f"No consumer {row['consumer']} runs in this service.")
    try:
        event = CloudEvent.model_validate_json(row["payload"])
    except ValidationError as exc:
        raise Conflict("The dead-lettered payload is not a valid event.") from exc
    await apply_once(db, row["consumer"], handler, event)
    async with db.sessions() as session, session.begin():
        await session.execute(
            dead_letter_table.update()
            .where(dead_letter_table.c.id == dead_letter_id)
            .values(replayed_at=utcnow())
        )
    return True
