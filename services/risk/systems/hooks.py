"""Listeners told when facts that risk work relies on change for a system.

The risk register marks the system's risks for review; classification asks for a new
classification. Listeners run inside the consumer's transaction, scoped to the system's org.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.risk.systems.models import SystemProjection

# Facts whose change invalidates risk assessments and classifications (issue: reassessment).
WATCHED_FACTS = frozenset(
    {
        "intended_purpose",
        "data_inputs",
        "sector",
        "lifecycle_stage",
        "in_scope",
        "ai_roles",
        "affected_stakeholders",
    }
)

FactListener = Callable[[AsyncSession, SystemProjection, frozenset[str]], Awaitable[None]]

_listeners: list[FactListener] = []


def on_facts_changed(listener: FactListener) -> FactListener:
    """Register ``listener`` (use as a decorator in the domain's module)."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


async def notify(session: AsyncSession, system: SystemProjection, changed: frozenset[str]) -> None:
    if not changed:
        return
    for listener in list(_listeners):
        await listener(session, system, changed)


ReviewDateListener = Callable[[AsyncSession, SystemProjection, date | None], Awaitable[None]]

_review_date_listeners: list[ReviewDateListener] = []


def on_review_date(listener: ReviewDateListener) -> ReviewDateListener:
    """Register ``listener`` for the inventory's review date of each system (every newer
    ``aims.inventory.system.*`` event but a system's first one without a date, when there is
    nothing yet to arm or clear; the date is not kept in the projection)."""
    if listener not in _review_date_listeners:
        _review_date_listeners.append(listener)
    return listener


async def notify_review_date(
    session: AsyncSession, system: SystemProjection, review_on: date | None
) -> None:
    for listener in list(_review_date_listeners):
        await listener(session, system, review_on)
