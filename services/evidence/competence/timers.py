"""Expiry notices of trainings, fired by the evidence service's scheduler.

Each training with an expiry date has two timers, armed when it is recorded and moved when its
dates change (:func:`services.evidence.competence.service._arm_timers`):

- ``competence.training.expiring`` at 00:00 UTC, ``AIMS_TRAINING_EXPIRING_DAYS`` days before
  ``expires_at``: emits ``training.expiring``, unless the training has expired meanwhile or the
  person has renewed it (a later training in the same competence, not evaluated as failed, that
  expires later or never);
- ``competence.training.expired`` at 00:00 UTC of ``expires_at`` (the first day it is no longer
  valid): emits ``training.expired``.

Each job re-reads the training (the timer may be stale) and records when it gave its notice
(``expiring_notified_at`` / ``expired_notified_at``, visible in the API), which bumps the
training's version: the event carries that new state.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.competence.events import TRAINING_EXPIRED, TRAINING_EXPIRING
from services.evidence.competence.models import Training
from services.evidence.competence.repository import CompetenceRepository
from services.evidence.competence.service import (
    TIMER_EXPIRED,
    TIMER_EXPIRING,
    today,
    training_read,
)
from shared.db import utcnow
from shared.events import EventType, emit, make_event
from shared.scheduler import Timer, TimerJob


async def _load(session: AsyncSession, timer: Timer) -> Training | None:
    try:
        training_id = uuid.UUID(timer.entity_id)
    except ValueError:
        return None
    return await CompetenceRepository(session).get(Training, training_id, for_update=True)


def _renews(later: Training, training: Training) -> bool:
    if later.evaluation_result in ("not_effective", "partially_effective"):
        return False
    return later.expires_at is None or (
        training.expires_at is not None and later.expires_at > training.expires_at
    )


async def _notify(session: AsyncSession, row: Training, event_type: EventType) -> None:
    row.version += 1
    row.updated_at = utcnow()
    await session.flush()
    state = training_read(row)
    await emit(
        session,
        make_event(event_type, org_id=row.org_id, subject=row.id, version=row.version, data=state),
    )


async def fire_expiring(session: AsyncSession, timer: Timer) -> None:
    row = await _load(session, timer)
    if row is None or row.expires_at is None or row.expiring_notified_at is not None:
        return
    if today() >= row.expires_at:
        return  # expired already: ``training.expired`` says so
    later = await CompetenceRepository(session).later_trainings(row)
    if any(_renews(other, row) for other in later):
        return
    row.expiring_notified_at = utcnow()
    await _notify(session, row, TRAINING_EXPIRING)


async def fire_expired(session: AsyncSession, timer: Timer) -> None:
    row = await _load(session, timer)
    if row is None or row.expires_at is None or row.expired_notified_at is not None:
        return
    if today() < row.expires_at:
        return  # moved to a later date; its own timer will fire then
    row.expired_notified_at = utcnow()
    await _notify(session, row, TRAINING_EXPIRED)


TIMER_JOBS = [
    TimerJob(TIMER_EXPIRING, fire_expiring),
    TimerJob(TIMER_EXPIRED, fire_expired),
]
