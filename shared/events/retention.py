"""Retention of the event pipeline's bookkeeping: a scheduled job deletes what is past its period.

- ``outbox``: rows published more than ``outbox_retention_hours`` ago (unpublished and parked
  rows are never pruned: a parked row goes only once it was replayed and published);
- ``inbox``: entries older than ``inbox_retention_days``, which must exceed the stream's
  ``max_age`` (JetStream can no longer deliver a message that old, so no duplicate can arrive);
- ``idempotency_key``: keys older than ``idempotency_retention_hours`` (a retry after that is a new
  request);
- ``dead_letter``: replayed (resolved) dead letters older than ``dead_letter_retention_days``;
  unresolved ones are kept until someone replays them.

The job is a timer of :mod:`shared.scheduler` (kind :data:`RETENTION_KIND`, one per database,
under the nil organisation), so that one replica runs it at a time; it re-arms itself for the
next run. Deletes go in batches, so one run never holds long locks.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import (
    Database,
    dead_letter_table,
    idempotency_table,
    inbox_table,
    outbox_table,
    utcnow,
)
from shared.events.metrics import event_metrics
from shared.observability import Metrics
from shared.scheduler import Timer, TimerJob, set_timer, timer_table

logger = logging.getLogger("aims.retention")

RETENTION_KIND = "events.retention"
#: One timer per database: every replica (and app) sharing the database shares it.
RETENTION_ENTITY = "event-tables"
#: The timer's organisation: the job is the service's, not an organisation's.
SERVICE_ORG = uuid.UUID(int=0)
#: The row-level-security setting that lets the job see and delete expired idempotency keys
#: (policy ``retention_prune`` of the ``20261129_events`` revisions).
PRUNE_SETTING = "aims.prune_before"


@dataclass(frozen=True)
class RetentionPeriods:
    outbox_published: timedelta
    inbox: timedelta
    idempotency_keys: timedelta
    resolved_dead_letters: timedelta
    interval: timedelta
    batch_size: int = 5000
    max_batches: int = 20


async def _delete_batches(
    session: AsyncSession,
    table: sa.Table,
    key: Sequence[sa.ColumnElement[Any]],
    where: sa.ColumnElement[bool],
    periods: RetentionPeriods,
) -> int:
    deleted = 0
    for _ in range(periods.max_batches):
        chosen = sa.select(*key).where(where).limit(periods.batch_size)
        target = key[0] if len(key) == 1 else sa.tuple_(*key)
        result = await session.execute(sa.delete(table).where(target.in_(chosen)))
        count = int(result.rowcount or 0)  # type: ignore[attr-defined]
        deleted += count
        if count < periods.batch_size:
            break
    return deleted


async def prune(session: AsyncSession, periods: RetentionPeriods) -> dict[str, int]:
    """Delete what is past its retention period; returns the rows deleted per table."""
    now = utcnow()
    counts: dict[str, int] = {}
    counts["outbox"] = await _delete_batches(
        session,
        outbox_table,
        [outbox_table.c.seq],
        outbox_table.c.published_at < now - periods.outbox_published,
        periods,
    )
    counts["inbox"] = await _delete_batches(
        session,
        inbox_table,
        [inbox_table.c.consumer, inbox_table.c.event_id],
        inbox_table.c.processed_at < now - periods.inbox,
        periods,
    )
    cutoff = now - periods.idempotency_keys
    await session.execute(
        sa.text("SELECT set_config(:name, :value, true)"),
        {"name": PRUNE_SETTING, "value": cutoff.isoformat()},
    )
    counts["idempotency_key"] = await _delete_batches(
        session,
        idempotency_table,
        [idempotency_table.c.org_id, idempotency_table.c.key],
        idempotency_table.c.created_at < cutoff,
        periods,
    )
    await session.execute(sa.text("SELECT set_config(:name, '', true)"), {"name": PRUNE_SETTING})
    counts["dead_letter"] = await _delete_batches(
        session,
        dead_letter_table,
        [dead_letter_table.c.id],
        dead_letter_table.c.replayed_at < now - periods.resolved_dead_letters,
        periods,
    )
    return counts


def retention_job(periods: RetentionPeriods, metrics: Metrics) -> TimerJob:
    """The timer job that prunes this service's tables and re-arms itself."""

    async def fire(session: AsyncSession, timer: Timer) -> None:
        counts = await prune(session, periods)
        pruned = event_metrics(metrics).pruned
        for table, count in counts.items():
            if count:
                pruned.labels(metrics.service, table).inc(count)
        logger.info("retention pruned", extra={"pruned": counts})
        await set_timer(
            session,
            org_id=SERVICE_ORG,
            kind=RETENTION_KIND,
            entity_id=RETENTION_ENTITY,
            due_at=utcnow() + periods.interval,
        )

    return TimerJob(kind=RETENTION_KIND, fire=fire)


async def arm_retention(db: Database) -> None:
    """Arm the retention timer, due now, unless it is already armed (any replica may call)."""
    async with db.sessions() as session, session.begin():
        await session.execute(
            pg_insert(timer_table)
            .values(
                org_id=SERVICE_ORG,
                kind=RETENTION_KIND,
                entity_id=RETENTION_ENTITY,
                due_at=utcnow(),
                attempts=0,
                armed_at=utcnow(),
            )
            .on_conflict_do_nothing()
        )
