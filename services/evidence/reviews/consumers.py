"""Events management reviews handle: the inventory's context issues (4.1) and interested parties
(4.2), and the risk service's risks (6.1), each version kept so that later reviews show them as
of their dates (9.3.2). One consumer per filter subject (nats-server 2.9 honours only one)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.reviews import service
from shared.events.consumer import EventHandler
from shared.events.envelope import CloudEvent

CONTEXT_ISSUES = "aims.inventory.context_issue.>"
INTERESTED_PARTIES = "aims.inventory.interested_party.>"
RISKS = "aims.risk.risk.>"


async def on_source_event(session: AsyncSession, event: CloudEvent) -> None:
    await service.record_source(session, event.type, event.data, event.dataversion)


HANDLERS: list[EventHandler] = [
    EventHandler(name="reviews-context-issues", subjects=[CONTEXT_ISSUES], handle=on_source_event),
    EventHandler(
        name="reviews-interested-parties", subjects=[INTERESTED_PARTIES], handle=on_source_event
    ),
    EventHandler(name="reviews-risks", subjects=[RISKS], handle=on_source_event),
]
