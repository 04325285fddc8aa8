"""Pruning of the webhook delivery log after its retention period (a scheduler timer job).

A message that is finished (``delivered``, ``failed`` or ``abandoned``) is deleted with its
attempts and its queue row once both its creation and its last delivery activity are older
than the retention (``AIMS_WEBHOOK_LOG_RETENTION_DAYS``, 30 days by default). A pending
message is never pruned, however old.

One timer per organisation (:data:`PRUNE_TIMER`, :mod:`shared.scheduler`): the first message
of an organisation arms it for when that message may go; when it fires it deletes what is due
(in batches of :data:`BATCH`, in the organisation's transaction) and re-arms itself for the
oldest message left, or clears itself when none is. The scheduler's claim makes it run once
across replicas.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.webhooks.repository import MessageRepository
from shared.db import utcnow
from shared.scheduler import Timer, TimerJob, get_timer, set_timer

PRUNE_TIMER = "webhooks.prune_delivery_log"
PRUNE_ENTITY = "delivery-log"
DEFAULT_RETENTION = timedelta(days=30)
#: Messages deleted per timer run; a run that hits it re-arms at once for the rest.
BATCH = 5000
#: When pending (unprunable) messages remain, look again after at most this long.
RECHECK = timedelta(days=1)

_retention: list[timedelta] = [DEFAULT_RETENTION]


def configure(retention: timedelta) -> None:
    """Set the retention period (from ``GatewaySettings.webhook_log_retention_days``)."""
    if retention <= timedelta(0):
        raise ValueError("webhook log retention must be positive")
    _retention[:] = [retention]


def current_retention() -> timedelta:
    return _retention[0]


async def arm(session: AsyncSession, org_id: uuid.UUID, now: datetime) -> None:
    """Make sure the organisation's prune timer is armed (after a message was queued)."""
    row = await get_timer(session, org_id=org_id, kind=PRUNE_TIMER, entity_id=PRUNE_ENTITY)
    if row is not None and row.fired_at is None:
        return  # armed already: the earliest date stays
    await set_timer(
        session,
        org_id=org_id,
        kind=PRUNE_TIMER,
        entity_id=PRUNE_ENTITY,
        due_at=now + current_retention(),
    )


async def prune_delivery_log(session: AsyncSession, timer: Timer) -> None:
    now = utcnow()
    retention = current_retention()
    deleted, oldest = await MessageRepository(session).prune_finished(
        timer.org_id, before=now - retention, limit=BATCH
    )
    if deleted >= BATCH:
        due: datetime | None = now
    elif oldest is None:
        due = None
    else:
        due = max(oldest + retention, now + min(retention, RECHECK))
    await set_timer(
        session, org_id=timer.org_id, kind=PRUNE_TIMER, entity_id=PRUNE_ENTITY, due_at=due
    )


TIMER_JOBS = [TimerJob(PRUNE_TIMER, prune_delivery_log)]
