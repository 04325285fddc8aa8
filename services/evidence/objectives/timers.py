"""The due date of an AI objective passing, fired by the evidence service's scheduler.

Each active objective has one timer, ``objective.due``, armed for its ``due_date`` (it fires at
00:00 UTC the day after) in the transaction that sets the date or the status
(:func:`services.evidence.objectives.service.arm_timer`). The job re-reads the objective: still
active and past due, it becomes ``achieved`` when its latest value meets the target and
``missed`` otherwise (never measured included), emitting ``objective.achieved`` or
``objective.missed``. A moved date or a changed status makes a stale timer a no-op.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.objectives import rules
from services.evidence.objectives.events import OBJECTIVE_ACHIEVED, OBJECTIVE_MISSED
from services.evidence.objectives.repository import ObjectiveRepository
from services.evidence.objectives.service import TIMER_DUE, emit_state, today
from shared.db import utcnow
from shared.scheduler import Timer, TimerJob


async def fire_due(session: AsyncSession, timer: Timer) -> None:
    try:
        objective_id = uuid.UUID(timer.entity_id)
    except ValueError:
        return
    # NOWAIT: the timer row is locked already (see TimerJob); a busy objective retries later.
    row = await ObjectiveRepository(session).get(objective_id, for_update=True, nowait=True)
    if row is None:
        return
    outcome = rules.status_at_due(row.status, row.on_target, row.due_date, today())
    if outcome is None:
        return
    now = utcnow()
    row.status = outcome.value
    row.status_changed_at = now
    row.version += 1
    row.updated_at = now
    row.updated_by = "system:scheduler"
    await session.flush()
    event = OBJECTIVE_ACHIEVED if outcome is rules.ObjectiveStatus.ACHIEVED else OBJECTIVE_MISSED
    await emit_state(session, event, row)


TIMER_JOBS = [TimerJob(TIMER_DUE, fire_due)]
