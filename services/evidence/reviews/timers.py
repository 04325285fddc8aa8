"""Overdue notices of management review actions, fired by the evidence service's scheduler.

Each open action has one timer, ``management_review.action_overdue``, armed for its
``due_date`` (it fires at 00:00 UTC the day after) in the transaction that sets the date or the
status (:func:`services.evidence.reviews.service.arm_action_timer`). The job re-reads the action:
still open and past due, it records ``overdue_notified_at`` (a new version) and emits
``management_review.action_overdue`` once per due date; a moved date, or an action done or
cancelled meanwhile, makes a stale timer a no-op.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.reviews.events import ACTION_OVERDUE
from services.evidence.reviews.repository import ReviewRepository
from services.evidence.reviews.schemas import ReviewActionStatus
from services.evidence.reviews.service import TIMER_ACTION_OVERDUE, emit_action, today
from shared.db import utcnow
from shared.scheduler import Timer, TimerJob


async def fire_action_overdue(session: AsyncSession, timer: Timer) -> None:
    try:
        action_id = uuid.UUID(timer.entity_id)
    except ValueError:
        return
    # NOWAIT: the timer row is locked already (see TimerJob); a busy action retries later.
    row = await ReviewRepository(session).get_action(action_id, for_update=True, nowait=True)
    if row is None or row.status != ReviewActionStatus.OPEN or row.overdue_notified_at is not None:
        return
    if row.due_date >= today():
        return  # moved to a later date; its own timer fires then
    now = utcnow()
    row.overdue_notified_at = now
    row.version += 1
    row.updated_at = now
    row.updated_by = "system:scheduler"
    await emit_action(session, ACTION_OVERDUE, row)


TIMER_JOBS = [TimerJob(TIMER_ACTION_OVERDUE, fire_action_overdue)]
