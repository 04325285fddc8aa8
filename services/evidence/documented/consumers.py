"""Events the documented domain handles, each consumer on one filter subject (nats-server 2.9
honours only one): the approved SoA, the approved scope (its summary, and each system's
membership), and EU AI Act classifications."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.documented import service
from shared.events.consumer import EventHandler
from shared.events.envelope import CloudEvent

SOA_CHANGED = "aims.risk.soa.changed"
SCOPE_CHANGED = "aims.inventory.scope.changed"
SYSTEM_SCOPE_CHANGED = "aims.inventory.system_scope.changed"
SYSTEM_CLASSIFIED = "aims.risk.system.classified"


async def on_soa_changed(session: AsyncSession, event: CloudEvent) -> None:
    """Keep the newest approved SoA (by its number): AX items follow its exclusions."""
    await service.apply_soa(session, service.SoAChangedData.model_validate(event.data))


async def on_scope_changed(session: AsyncSession, event: CloudEvent) -> None:
    """Keep the newer approved scope's number (readiness needs an approved scope)."""
    await service.apply_scope(session, service.ScopeChangedData.model_validate(event.data))


async def on_system_scope_changed(session: AsyncSession, event: CloudEvent) -> None:
    """Apply a system's newer membership: in, it is asked for its items; out, released."""
    await service.apply_system_scope(session, service.SystemScopeData.model_validate(event.data))


async def on_system_classified(session: AsyncSession, event: CloudEvent) -> None:
    """Keep a system's newer tier (``dataversion`` is the classification's version)."""
    await service.apply_classification(
        session, service.ClassificationData.model_validate(event.data), event.dataversion
    )


HANDLERS: list[EventHandler] = [
    EventHandler(name="documented-soa", subjects=[SOA_CHANGED], handle=on_soa_changed),
    EventHandler(name="documented-scope", subjects=[SCOPE_CHANGED], handle=on_scope_changed),
    EventHandler(
        name="documented-system-scope",
        subjects=[SYSTEM_SCOPE_CHANGED],
        handle=on_system_scope_changed,
    ),
    EventHandler(
        name="documented-classification", subjects=[SYSTEM_CLASSIFIED], handle=on_system_classified
    ),
]
