"""The outbox relay: publishes committed outbox rows to JetStream, in order, at least once.

Rows are claimed with ``FOR UPDATE SKIP LOCKED`` so several replicas of a service can relay side
by side without publishing the same row twice at the same time; each message carries
``Nats-Msg-Id`` = event id so the broker drops the duplicates a crash between publish and
commit can cause. ``LISTEN/NOTIFY`` wakes the relay at once, but it never relies on it: it also
polls, so a missed notification only delays an event by one poll interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

import asyncpg
import sqlalchemy as sa
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError

from shared.db import OUTBOX_NOTIFY_CHANNEL, Database, outbox_table, utcnow
from shared.observability import Metrics

logger = logging.getLogger("aims.relay")

DUPLICATE_WINDOW_SECONDS = 3600.0


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    """The plain libpq URL asyncpg accepts, from a SQLAlchemy ``postgresql+asyncpg`` URL."""
    url = sa.engine.make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


async def ensure_stream(js: JetStreamContext, name: str, subject_prefix: str = "") -> None:
    """Create the stream that carries every AIMS event, or leave the existing one be."""
    subjects = [f"{subject_prefix}aims.>"]
    try:
        await js.stream_info(name)
    except NotFoundError:
        with contextlib.suppress(Exception):  # another process may have created it meanwhile
            await js.add_stream(
                StreamConfig(
                    name=name,
                    subjects=subjects,
                    storage=StorageType.FILE,
                    duplicate_window=DUPLICATE_WINDOW_SECONDS,
                )
            )
        await js.stream_info(name)


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
    ) -> None:
        self.db = db
        self.js = js
        self.listen_dsn = listen_dsn
        self.metrics = metrics
        self.subject_prefix = subject_prefix
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.ack_timeout = ack_timeout
        self._wake = asyncio.Event()

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
                headers={"Nats-Msg-Id": str(row.event_id)},
            )
        except Exception as exc:
            return exc
        return None

    async def publish_batch(self) -> int:
        """Publish up to ``batch_size`` unpublished rows in order; returns how many were sent."""
        async with self.db.sessions() as session, session.begin():
            rows = (
                await session.execute(
                    sa.select(
                        outbox_table.c.seq,
                        outbox_table.c.event_id,
                        outbox_table.c.subject,
                        # As text: the JSON goes out as stored, not decoded and encoded again.
                        sa.cast(outbox_table.c.envelope, sa.Text).label("envelope"),
                    )
                    .where(outbox_table.c.published_at.is_(None))
                    .order_by(outbox_table.c.seq)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            published: list[int] = []
            outcomes = await self._publish(rows)
            for row, error in zip(rows, outcomes, strict=True):
                if error is not None:
                    # Stop at the first failure so that order is kept; the row is retried.
                    await session.execute(
                        outbox_table.update()
                        .where(outbox_table.c.seq == row.seq)
                        .values(attempts=outbox_table.c.attempts + 1, last_error=str(error)[:2000])
                    )
                    logger.warning("publish failed", extra={"event_id": str(row.event_id)})
                    break
                published.append(row.seq)
            if published:
                await session.execute(
                    outbox_table.update()
                    .where(outbox_table.c.seq.in_(published))
                    .values(published_at=utcnow(), attempts=outbox_table.c.attempts + 1)
                )
                self.metrics.events_published.labels(self.metrics.service).inc(len(published))
            return len(published)
