"""The overdue notice of corrective actions, fired by the evidence service's scheduler.

Each open action has one timer ``corrective.action.overdue`` for its ``due_date`` (it fires once
that day has passed, at 00:00 UTC the day after), armed when the action is planned, moved when
its due date changes, and removed once it is verified effective or closed
(:func:`services.evidence.corrective.service._arm_overdue`). The job re-reads the action (the
timer may be stale), records ``overdue_notified_at`` (visible in the API; it bumps the version)
and emits ``corrective_action.overdue`` with that new state.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.corrective import rules
from services.evidence.corrective.events import CORRECTIVE_ACTION_OVERDUE
from services.evidence.corrective.models import CorrectiveAction
from services.evidence.corrective.repository import CorrectiveRepository
from services.evidence.corrective.service import TIMER_OVERDUE, action_read, today
from shared.db import utcnow
from shared.events import emit, make_event
from shared.scheduler import Timer, TimerJob


async def fire_overdue(session: AsyncSession, timer: Timer) -> None:
    try:
        action_id = uuid.UUID(timer.entity_id)
    except ValueError:
        return
    row = await CorrectiveRepository(session).get(
        CorrectiveAction, action_id, for_update=True, nowait=True
    )
    if row is None or row.overdue_notified_at is not None:
        return
    if not rules.is_overdue(row.status, row.due_date, today()):
        return  # verified, closed, or moved to a later date (its own timer fires then)
    row.overdue_notified_at = utcnow()
    row.version += 1
    row.updated_at = utcnow()
    await session.flush()
    state = action_read(row)
    await emit(
        session,
        make_event(
            CORRECTIVE_ACTION_OVERDUE,
            org_id=row.org_id,
            subject=row.id,
            version=row.version,
            data=state,
        ),
    )


TIMER_JOBS = [TimerJob(TIMER_OVERDUE, fire_overdue)]
