"""Time-based events of evidence items, fired by the service's scheduler
(:mod:`shared.scheduler`): a review-by date passing (``evidence.review_due``), the effective
period ending (status ``expired``, ``evidence.expired``), the retention period ending
(``evidence.retention_ended``).

Timers are armed in the same transaction as the change that sets a date, so a date is never
set without its timer. A date D fires once day D has passed. Each job re-reads the item: a
timer armed for a date that changed since, or for an item that was deleted, does nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.items.events import (
    EVIDENCE_EXPIRED,
    EVIDENCE_RETENTION_ENDED,
    EVIDENCE_REVIEW_DUE,
)
from services.evidence.items.models import EvidenceItem
from services.evidence.items.repository import ItemRepository
from shared.scheduler import Timer, TimerJob, set_timer

REVIEW_DUE = "evidence.review_due"
EXPIRE = "evidence.expire"
RETENTION_ENDED = "evidence.retention_ended"
# Which item column each timer kind follows.
DATE_OF_KIND = {REVIEW_DUE: "review_by", EXPIRE: "effective_to", RETENTION_ENDED: "retention_until"}


async def arm_timers(session: AsyncSession, item: EvidenceItem) -> None:
    """(Re-)arm the item's timers for its current dates; a cleared date clears its timer."""
    for kind, column in DATE_OF_KIND.items():
        await set_timer(
            session,
            org_id=item.org_id,
            kind=kind,
            entity_id=item.id,
            due_at=getattr(item, column),
        )


async def clear_timers(session: AsyncSession, item: EvidenceItem) -> None:
    for kind in DATE_OF_KIND:
        await set_timer(session, org_id=item.org_id, kind=kind, entity_id=item.id, due_at=None)


def today_utc() -> date:
    return datetime.now(UTC).date()


async def _item_for(session: AsyncSession, timer: Timer) -> EvidenceItem | None:
    """The item a timer is for, if it still has the date the timer was armed for and that
    date has passed."""
    try:
        item_id = uuid.UUID(timer.entity_id)
    except ValueError:
        return None
    item = await ItemRepository(session).get(item_id, for_update=True)
    if item is None:
        return None
    value: date | None = getattr(item, DATE_OF_KIND[timer.kind])
    if value is None or value >= today_utc():
        return None  # the date moved (or was cleared) since the timer was armed
    return item


async def _fire_review_due(session: AsyncSession, timer: Timer) -> None:
    from services.evidence.items import service  # imports this module

    item = await _item_for(session, timer)
    if item is not None:
        assert item.review_by is not None
        await service.emit_timer_event(session, item, EVIDENCE_REVIEW_DUE, item.review_by)


async def _fire_expire(session: AsyncSession, timer: Timer) -> None:
    from services.evidence.items import service  # imports this module

    item = await _item_for(session, timer)
    if item is not None:
        assert item.effective_to is not None
        await service.expire(session, item, EVIDENCE_EXPIRED, today=today_utc())


async def _fire_retention_ended(session: AsyncSession, timer: Timer) -> None:
    from services.evidence.items import service  # imports this module

    item = await _item_for(session, timer)
    if item is not None:
        assert item.retention_until is not None
        await service.emit_timer_event(
            session, item, EVIDENCE_RETENTION_ENDED, item.retention_until
        )


TIMER_JOBS: list[TimerJob] = [
    TimerJob(REVIEW_DUE, _fire_review_due),
    TimerJob(EXPIRE, _fire_expire),
    TimerJob(RETENTION_ENDED, _fire_retention_ended),
]
