"""Timers of readiness, fired by the evidence service's scheduler.

- ``readiness.recompute`` (one per organisation, entity ``org``): armed a couple of seconds
  after an event that may change readiness (debounced: a burst arms it once); recomputes,
  stores a snapshot and emits ``readiness.changed`` when something changed, then re-arms itself
  for the next day (review-by and due dates pass with time, not only with events).
- ``certification.milestone`` (one per milestone): the day after its planned end; emits
  ``milestone.overdue`` once if it is still not done.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.readiness import service
from shared.db import utcnow
from shared.scheduler import Timer, TimerJob, set_timer


async def fire_recompute(session: AsyncSession, timer: Timer) -> None:
    await service.recompute(session, timer.org_id, trigger="scheduled")
    await set_timer(
        session,
        org_id=timer.org_id,
        kind=service.RECOMPUTE_TIMER,
        entity_id=service.RECOMPUTE_ENTITY,
        due_at=service.next_daily(utcnow()),
    )


async def fire_milestone(session: AsyncSession, timer: Timer) -> None:
    try:
        milestone_id = uuid.UUID(timer.entity_id)
    except ValueError:
        return
    await service.notify_overdue(session, milestone_id)


TIMER_JOBS = [
    TimerJob(service.RECOMPUTE_TIMER, fire_recompute),
    TimerJob(service.MILESTONE_TIMER, fire_milestone),
]
