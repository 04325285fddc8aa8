"""Watches the event pipeline's lag: the outbox's oldest unpublished row, parked rows, and each
consumer's pending messages. It samples every few seconds (a supervised worker), sets the
``/metrics`` gauges and keeps the last sample for ``/readyz``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from nats.js import JetStreamContext

from shared.db import Database, outbox_table, utcnow
from shared.events.consumer import ConsumerRunner
from shared.events.metrics import event_metrics
from shared.observability import Metrics

logger = logging.getLogger("aims.monitor")


@dataclass
class PipelineSample:
    """What the last sample saw; ``lagging`` names what is past its alert threshold."""

    at: datetime | None = None
    outbox_unpublished: int = 0
    outbox_oldest_seconds: float = 0.0
    outbox_parked: int = 0
    consumers: dict[str, dict[str, int]] = field(default_factory=dict)
    lagging: list[str] = field(default_factory=list)
    error: str | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "sampled_at": self.at.isoformat() if self.at else None,
            "outbox_unpublished": self.outbox_unpublished,
            "outbox_oldest_seconds": round(self.outbox_oldest_seconds, 3),
            "outbox_parked": self.outbox_parked,
            "consumers": self.consumers,
            "lagging": self.lagging,
            "error": self.error,
        }


class PipelineMonitor:
    def __init__(
        self,
        db: Database,
        js: JetStreamContext | None,
        runners: Sequence[ConsumerRunner],
        metrics: Metrics,
        *,
        stream: str,
        interval: float = 5.0,
        outbox_lag_alert_seconds: float = 60.0,
        consumer_lag_alert_messages: int = 1000,
    ) -> None:
        self.db = db
        self.js = js
        self.runners = runners
        self.metrics = metrics
        self.stream = stream
        self.interval = interval
        self.outbox_lag_alert_seconds = outbox_lag_alert_seconds
        self.consumer_lag_alert_messages = consumer_lag_alert_messages
        self.last = PipelineSample()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                self.last = await self.sample()
            except Exception as exc:
                logger.warning("pipeline sample failed", exc_info=True)
                self.last.error = f"{type(exc).__name__}: {exc}"[:300]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval)

    async def sample(self) -> PipelineSample:
        sample = PipelineSample(at=utcnow())
        async with self.db.sessions() as session:
            waiting = (
                await session.execute(
                    sa.select(sa.func.count(), sa.func.min(outbox_table.c.created_at)).where(
                        outbox_table.c.published_at.is_(None), outbox_table.c.parked_at.is_(None)
                    )
                )
            ).one()
            parked = (
                await session.execute(
                    sa.select(sa.func.count()).where(outbox_table.c.parked_at.is_not(None))
                )
            ).scalar_one()
        sample.outbox_unpublished = int(waiting[0])
        if waiting[1] is not None:
            sample.outbox_oldest_seconds = max(0.0, (sample.at - waiting[1]).total_seconds())
        sample.outbox_parked = int(parked)
        gauges = event_metrics(self.metrics)
        service = self.metrics.service
        gauges.outbox_unpublished.labels(service).set(sample.outbox_unpublished)
        gauges.outbox_oldest_seconds.labels(service).set(sample.outbox_oldest_seconds)
        gauges.outbox_parked.labels(service).set(sample.outbox_parked)
        if sample.outbox_oldest_seconds > self.outbox_lag_alert_seconds:
            sample.lagging.append("outbox")
        if sample.outbox_parked:
            sample.lagging.append("outbox-parked")
        if self.js is not None:
            for runner in self.runners:
                info = await self.js.consumer_info(self.stream, runner.durable)
                pending = int(info.num_pending or 0)
                ack_pending = int(info.num_ack_pending or 0)
                sample.consumers[runner.handler.name] = {
                    "pending": pending,
                    "ack_pending": ack_pending,
                }
                gauges.consumer_pending.labels(service, runner.handler.name).set(pending)
                gauges.consumer_ack_pending.labels(service, runner.handler.name).set(ack_pending)
                if pending > self.consumer_lag_alert_messages:
                    sample.lagging.append(f"consumer:{runner.handler.name}")
        return sample
