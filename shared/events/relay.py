"""The outbox relay: publishes committed outbox rows to JetStream, in order, at least once.

Rows are claimed with ``FOR UPDATE SKIP LOCKED`` so several replicas of a service can relay side
by side without publishing the same row twice at the same time; each message carries
``Nats-Msg-Id`` = event id so the broker drops the duplicates a crash between publish and
commit can cause. ``LISTEN/NOTIFY`` wakes the relay at once, but it never relies on it: it also
polls, so a missed notification only delays an event by one poll interval.

A row that can never be published (larger than the broker takes, or refused by the stream) is
*parked*: marked ``parked_at`` with its error, written to ``dead_letter`` (consumer
:data:`RELAY_CONSUMER`) for ops to list and replay, counted (``aims_outbox_parked_total``) and
logged as an alert; the rows after it go on. Per-aggregate order is kept: a later row of the
same aggregate (entity type and id, e.g. one AI system) as a parked row is parked too ("held
behind") instead of overtaking it, and replaying re-queues the aggregate's parked rows in their
order. A transient failure (broker down, no acknowledgement) parks nothing: the relay stops at
that row and tries it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
import sqlalchemy as sa
from nats.errors import MaxPayloadError
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import (
    OUTBOX_NOTIFY_CHANNEL,
    Database,
    dead_letter_table,
    outbox_table,
    utcnow,
    uuid7,
)
from shared.events.metrics import event_metrics
from shared.events.outbox import entity_type_of
from shared.observability import Metrics
from shared.telemetry import publish_spans

logger = logging.getLogger("aims.relay")

DUPLICATE_WINDOW_SECONDS = 3600.0
#: The ``consumer`` of the dead letters the relay writes for parked outbox rows.
RELAY_CONSUMER = "outbox-relay"
#: Room left in the broker's ``max_payload`` for the message's headers.
HEADER_ALLOWANCE_BYTES = 1024


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    """The plain libpq URL asyncpg accepts, from a SQLAlchemy ``postgresql+asyncpg`` URL."""
    url = sa.engine.make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def is_permanent(error: BaseException) -> bool:
    """Whether publishing again can never succeed: the message is too large for the connection
    or the stream refused it (JetStream answers 400). Anything else (no responders, timeouts,
    a closed or reconnecting connection, 503) is transient."""
    return isinstance(error, MaxPayloadError | BadRequestError)


def aggregate_of(event_type: str, entity: str | None, org_id: uuid.UUID | None) -> str:
    """The aggregate an event belongs to, whose order is kept: its entity type and id."""
    return f"{org_id}/{entity_type_of(event_type)}/{entity or ''}"


async def parked_aggregates(session: AsyncSession, rows: Sequence[Any]) -> dict[str, int]:
    """Aggregate → the lowest ``seq`` of a parked row of it, for the aggregates of ``rows``."""
    entities = sorted({row.entity for row in rows if row.entity is not None})
    if not entities:
        return {}
    parked = await session.execute(
        sa.select(
            outbox_table.c.seq,
            outbox_table.c.org_id,
            outbox_table.c.type,
            outbox_table.c.envelope["subject"].astext.label("entity"),
        )
        .where(
            outbox_table.c.parked_at.is_not(None),
            outbox_table.c.envelope["subject"].astext.in_(entities),
        )
        .order_by(outbox_table.c.seq)
    )
    found: dict[str, int] = {}
    for row in parked:
        found.setdefault(aggregate_of(row.type, row.entity, row.org_id), row.seq)
    return found


async def requeue_parked(db: Database, event_id: uuid.UUID) -> list[uuid.UUID]:
    """Replay of a parked row: un-park it and every parked row of its aggregate, so the relay
    publishes them again in their order; their dead letters are marked replayed. Returns the
    re-queued event ids (none when the row is not parked any more)."""
    async with db.sessions() as session, session.begin():
        row = (
            await session.execute(
                sa.select(
                    outbox_table.c.org_id,
                    outbox_table.c.type,
                    outbox_table.c.envelope["subject"].astext.label("entity"),
                ).where(outbox_table.c.event_id == event_id, outbox_table.c.parked_at.is_not(None))
            )
        ).first()
        if row is None:
            return []
        key = aggregate_of(row.type, row.entity, row.org_id)
        same_entity = (
            await session.execute(
                sa.select(
                    outbox_table.c.seq,
                    outbox_table.c.event_id,
                    outbox_table.c.org_id,
                    outbox_table.c.type,
                    outbox_table.c.envelope["subject"].astext.label("entity"),
                )
                .where(
                    outbox_table.c.parked_at.is_not(None),
                    outbox_table.c.envelope["subject"].astext == row.entity
                    if row.entity is not None
                    else outbox_table.c.event_id == event_id,
                )
                .with_for_update()
            )
        ).all()
        ids = [r.event_id for r in same_entity if aggregate_of(r.type, r.entity, r.org_id) == key]
        await session.execute(
            outbox_table.update()
            .where(outbox_table.c.event_id.in_(ids))
            .values(parked_at=None, attempts=0)
        )
        await session.execute(
            dead_letter_table.update()
            .where(
                dead_letter_table.c.consumer == RELAY_CONSUMER,
                dead_letter_table.c.event_id.in_(ids),
                dead_letter_table.c.replayed_at.is_(None),
            )
            .values(replayed_at=utcnow())
        )
        await session.execute(
            sa.text("SELECT pg_notify(:channel, '')"), {"channel": OUTBOX_NOTIFY_CHANNEL}
        )
        logger.warning("parked outbox rows re-queued", extra={"event_ids": [str(i) for i in ids]})
        return ids


def stream_config(
    name: str,
    subject_prefix: str = "",
    *,
    max_age_seconds: float | None = None,
    max_bytes: int | None = None,
    max_msg_size: int | None = None,
) -> StreamConfig:
    """The stream that carries every AIMS event, with its limits (None: unlimited).

    ``max_age`` and ``max_bytes`` bound what the broker keeps; they must be larger than any
    consumer's allowed downtime (docs/operations.md), since a message older than ``max_age``
    (or pushed out by ``max_bytes``) is gone for a consumer that has not read it yet.
    """
    return StreamConfig(
        name=name,
        subjects=[f"{subject_prefix}aims.>"],
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        max_age=max_age_seconds,
        max_bytes=max_bytes if max_bytes is not None else -1,
        max_msg_size=max_msg_size if max_msg_size is not None else -1,
        discard=DiscardPolicy.OLD,
    )


async def ensure_stream(
    js: JetStreamContext,
    name: str,
    subject_prefix: str = "",
    *,
    max_age_seconds: float | None = None,
    max_bytes: int | None = None,
    max_msg_size: int | None = None,
) -> None:
    """Create the stream that carries every AIMS event with its limits, or bring the limits
    given here to an existing one (limits not given are left as they are)."""
    wanted = stream_config(
        name,
        subject_prefix,
        max_age_seconds=max_age_seconds,
        max_bytes=max_bytes,
        max_msg_size=max_msg_size,
    )
    try:
        info = await js.stream_info(name)
    except NotFoundError:
        try:
            await js.add_stream(wanted)
        except Exception as exc:
            # Another process may have created it meanwhile; anything else (not enough storage
            # for max_bytes, a subject overlap) must be told, not hidden behind "not found".
            try:
                await js.stream_info(name)
            except NotFoundError:
                raise RuntimeError(
                    f"cannot create the JetStream stream {name!r} "
                    f"(max_bytes={max_bytes}, max_age={max_age_seconds}s): {exc}"
                ) from exc
        return
    current = info.config
    changed = False
    if max_age_seconds is not None and abs((current.max_age or 0) - max_age_seconds) > 0.001:
        current.max_age, changed = max_age_seconds, True
    if max_bytes is not None and current.max_bytes != max_bytes:
        current.max_bytes, changed = max_bytes, True
    if max_msg_size is not None and current.max_msg_size != max_msg_size:
        current.max_msg_size, changed = max_msg_size, True
    if changed:
        try:
            await js.update_stream(current)
        except Exception:
            logger.warning("could not update the stream's limits", exc_info=True)


# Key of the advisory lock that lets one relay of a service's database publish at a time (advisory
# locks are per database, so the services' relays do not contend with each other).
RELAY_LOCK = int.from_bytes(hashlib.sha256(b"aims-outbox-relay").digest()[:8], "big", signed=True)


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        js: JetStreamContext,
        *,
        listen_dsn: str,
        metrics: Metrics,
        subject_prefix: str = "",
        batch_size: int = 500,
        poll_interval: float = 1.0,
        ack_timeout: float = 5.0,
        max_message_bytes: int | None = None,
    ) -> None:
        self.db = db
        self.js = js
        self.listen_dsn = listen_dsn
        self.metrics = metrics
        self.subject_prefix = subject_prefix
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.ack_timeout = ack_timeout
        self._max_message_bytes = max_message_bytes
        self._wake = asyncio.Event()

    @property
    def max_message_bytes(self) -> int:
        """The largest envelope the broker takes: the connection's ``max_payload`` (less room
        for headers) and the stream's ``max_msg_size`` when configured."""
        limits = [self._max_message_bytes] if self._max_message_bytes else []
        connection = getattr(self.js, "_nc", None)
        max_payload = getattr(connection, "max_payload", 0)
        if isinstance(max_payload, int) and max_payload > 0:
            limits.append(max_payload - HEADER_ALLOWANCE_BYTES)
        return min(limits) if limits else 1_048_576 - HEADER_ALLOWANCE_BYTES

    async def run(self, stop: asyncio.Event) -> None:
        listener = await self._listen()
        try:
            while not stop.is_set():
                try:
                    sent = await self.publish_batch()
                except Exception:
                    logger.exception("outbox relay batch failed; retrying")
                    sent = 0
                if sent >= self.batch_size:
                    continue
                self._wake.clear()
                waiters = [
                    asyncio.ensure_future(self._wake.wait()),
                    asyncio.ensure_future(stop.wait()),
                ]
                await asyncio.wait(
                    waiters, timeout=self.poll_interval, return_when=asyncio.FIRST_COMPLETED
                )
                for waiter in waiters:
                    waiter.cancel()
        finally:
            if listener is not None:
                with contextlib.suppress(Exception):
                    await listener.close()

    async def _listen(self) -> asyncpg.Connection | None:
        try:
            conn = await asyncpg.connect(self.listen_dsn)
            await conn.add_listener(OUTBOX_NOTIFY_CHANNEL, lambda *_: self._wake.set())
            return conn
        except Exception:
            logger.warning("LISTEN unavailable; the relay polls only", exc_info=True)
            return None

    async def _publish(self, rows: Sequence[Any]) -> list[BaseException | None]:
        """Publish ``rows`` in order with their acks pipelined; one outcome per row, ``None``
        when JetStream acknowledged it.

        Messages go out in order on the one connection and the broker stores them in that
        order; only the acks are awaited together, instead of one round trip per row. A row
        after a failed one may have been stored too: it is published again with the same
        ``Nats-Msg-Id`` (so the broker drops the copy), and events carry their version, so a
        consumer never applies an older state over a newer one.
        """
        if not hasattr(self.js, "publish_async"):  # nats-py < 2.10: one round trip per row
            sequential: list[BaseException | None] = []
            for row in rows:
                sequential.append(await self._publish_one(row))
                if sequential[-1] is not None:
                    break
            return sequential + [RuntimeError("not sent")] * (len(rows) - len(sequential))
        pending: list[asyncio.Future[Any] | BaseException] = []
        for row in rows:
            try:
                future = await self.js.publish_async(
                    self.subject_prefix + row.subject,
                    row.envelope.encode(),
                    headers={"Nats-Msg-Id": str(row.event_id)},
                )
            except Exception as exc:  # not even sent (disconnected, too many pending)
                pending.append(exc)
                break
            pending.append(future)
        futures = [f for f in pending if isinstance(f, asyncio.Future)]
        if futures:
            await asyncio.wait(futures, timeout=self.ack_timeout)
        outcomes: list[BaseException | None] = []
        for item in pending:
            if isinstance(item, BaseException):
                outcomes.append(item)
            elif not item.done():
                item.cancel()
                outcomes.append(TimeoutError("no acknowledgement from JetStream"))
            else:
                outcomes.append(item.exception())  # None: acknowledged
        outcomes.extend(RuntimeError("not sent") for _ in range(len(rows) - len(outcomes)))
        return outcomes

    async def _publish_one(self, row: Any) -> BaseException | None:
        try:
            await self.js.publish(
                self.subject_prefix + row.subject,
                row.envelope.encode(),
                timeout=self.ack_timeout,
                headers={"Nats-Msg-Id": str(row.event_id)},
            )
        except Exception as exc:
            return exc
        return None

    async def publish_batch(self) -> int:
        """Publish up to ``batch_size`` unpublished rows in order; returns how many were handled
        (published or parked)."""
        async with self.db.sessions() as session, session.begin():
            # One relay at a time per database: with SKIP LOCKED alone, two replicas could claim
            # rows of one aggregate in two batches and publish the later one first (or past a row
            # the other is parking). The transaction-scoped lock ends with the batch; a replica
            # that finds it taken tries again at its next wake-up.
            if not await session.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(RELAY_LOCK))):
                return 0
            rows = (
                await session.execute(
                    sa.select(
                        outbox_table.c.seq,
                        outbox_table.c.event_id,
                        outbox_table.c.org_id,
                        outbox_table.c.type,
                        outbox_table.c.subject,
                        outbox_table.c.attempts,
                        outbox_table.c.envelope["subject"].astext.label("entity"),
                        outbox_table.c.envelope["traceparent"].astext.label("traceparent"),
                        # As text: the JSON goes out as stored, not decoded and encoded again.
                        sa.cast(outbox_table.c.envelope, sa.Text).label("envelope"),
                    )
                    .where(
                        outbox_table.c.published_at.is_(None), outbox_table.c.parked_at.is_(None)
                    )
                    .order_by(outbox_table.c.seq)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            # Rows that must not go out: too large for the broker, or behind a parked row of
            # their aggregate. They are parked without being sent.
            held = await parked_aggregates(session, rows)
            refused: dict[int, str] = {}
            for row in rows:
                key = aggregate_of(row.type, row.entity, row.org_id)
                if key in held and held[key] < row.seq:
                    refused[row.seq] = f"held behind parked event {held[key]} of {key}"
                    continue
                size = len(row.envelope.encode())
                if size > self.max_message_bytes:
                    refused[row.seq] = (
                        f"event of {size} bytes exceeds the broker's limit of "
                        f"{self.max_message_bytes} bytes"
                    )
                    held.setdefault(key, row.seq)
            sendable = [row for row in rows if row.seq not in refused]
            spans = publish_spans(self.metrics, sendable, self.subject_prefix)  # telemetry
            sent = await self._publish(sendable)
            spans.end(sent)
            outcomes = dict(zip((r.seq for r in sendable), sent, strict=True))
            published: list[int] = []
            parked = 0
            for row in rows:
                if row.seq in refused:
                    await self._park(session, row, refused[row.seq])
                    parked += 1
                    continue
                error = outcomes[row.seq]
                if isinstance(error, TimeoutError):
                    # nats-py loses a refusal of a pipelined publish (its reply handler raises
                    # instead of failing the future): the ack just never comes. One publish on
                    # its own tells a refusal (400) from a broker that is slow or away.
                    error = await self._publish_one(row)
                if error is None:
                    published.append(row.seq)
                    continue
                if is_permanent(error):
                    await self._park(session, row, f"{type(error).__name__}: {error}")
                    parked += 1
                    continue
                # A transient failure (broker down, no ack in time): stop here so that order is
                # kept; this row and the ones after it are tried again.
                await session.execute(
                    outbox_table.update()
                    .where(outbox_table.c.seq == row.seq)
                    .values(attempts=outbox_table.c.attempts + 1, last_error=str(error)[:2000])
                )
                logger.warning("publish failed", extra={"event_id": str(row.event_id)})
                break
            if published:
                await session.execute(
                    outbox_table.update()
                    .where(outbox_table.c.seq.in_(published))
                    .values(published_at=utcnow(), attempts=outbox_table.c.attempts + 1)
                )
                self.metrics.events_published.labels(self.metrics.service).inc(len(published))
            return len(published) + parked

    async def _park(self, session: AsyncSession, row: Any, error: str) -> None:
        """Set ``row`` aside for good: marked parked, listed as a dead letter, counted, alerted."""
        now = utcnow()
        await session.execute(
            outbox_table.update()
            .where(outbox_table.c.seq == row.seq)
            .values(parked_at=now, last_error=error[:2000], attempts=outbox_table.c.attempts + 1)
        )
        await session.execute(
            dead_letter_table.insert().values(
                id=uuid7(),
                consumer=RELAY_CONSUMER,
                event_id=row.event_id,
                org_id=row.org_id,
                subject=row.subject,
                payload=row.envelope.encode(),
                error=error[:4000],
                deliveries=row.attempts + 1,
                created_at=now,
            )
        )
        event_metrics(self.metrics).parked.labels(self.metrics.service).inc()
        logger.error(
            "ALERT outbox row parked: it cannot be published; later events go on",
            extra={
                "alert": "outbox-row-parked",
                "event_id": str(row.event_id),
                "event_type": row.type,
                "error": error[:500],
            },
        )
