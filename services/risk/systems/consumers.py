"""Keeps the projection of AI systems from inventory events, and tells listeners what changed.

``aims.inventory.system.*`` carries each system's full state and version: applied only if newer.
``aims.inventory.scope.changed`` carries the approved scope version with ``systems_in`` and
``systems_out``: applied to every listed system whose scope version is older.
``aims.inventory.organisation_ai_roles.updated`` carries the organisation-level AI roles: kept
in ``organisation_ai_roles`` if newer. Each handler has one filter subject (nats-server 2.9).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from services.risk.systems.hooks import WATCHED_FACTS, notify, notify_review_date
from services.risk.systems.models import OrganisationAIRolesProjection, SystemProjection
from shared.db import utcnow
from shared.events import CloudEvent
from shared.events.consumer import EventHandler
from shared.projections import InventorySystemState, upsert_if_newer


class InventorySystemFacts(InventorySystemState):
    """The facts of ``aims.inventory.system.*`` data the risk service keeps."""

    description: str | None = None
    intended_purpose: str | None = None
    sector: str | None = None
    data_inputs: list[Any] = []
    ai_roles: list[str] = []
    affected_stakeholders: list[str] = []
    vendor_id: uuid.UUID | None = None
    provenance: str | None = None
    # Not kept in the projection: it arms the system's review timer (``system.review``).
    next_review_at: date | None = None


class ScopeChange(BaseModel):
    """The part of ``aims.inventory.scope.changed`` data the risk service reads."""

    model_config = ConfigDict(extra="ignore")

    systems_in: list[uuid.UUID] = []
    systems_out: list[uuid.UUID] = []


def _facts(row: SystemProjection) -> dict[str, Any]:
    return {name: getattr(row, name) for name in WATCHED_FACTS}


async def apply_system_event(session: AsyncSession, event: CloudEvent) -> None:
    facts = InventorySystemFacts.model_validate(event.data)
    row = await session.get(SystemProjection, facts.id, with_for_update=True)
    if row is not None and row.source_version >= event.dataversion:
        return  # an older or repeated event: what we hold is newer
    before = _facts(row) if row is not None else {}
    if row is None:
        row = SystemProjection(id=facts.id, org_id=facts.org_id, in_scope=None, scope_version=None)
        session.add(row)
    for name, value in facts.model_dump(exclude={"id", "org_id", "next_review_at"}).items():
        setattr(row, name, value)
    row.source_version = event.dataversion
    row.synced_at = utcnow()
    await session.flush()
    after = _facts(row)
    changed = frozenset(k for k in WATCHED_FACTS if before and before.get(k) != after.get(k))
    await notify(session, row, changed)
    await notify_review_date(session, row, facts.next_review_at)


async def apply_scope_event(session: AsyncSession, event: CloudEvent) -> None:
    change = ScopeChange.model_validate(event.data)
    membership = {sid: True for sid in change.systems_in} | {
        sid: False for sid in change.systems_out
    }
    for system_id, included in membership.items():
        row = await session.get(SystemProjection, system_id, with_for_update=True)
        if row is None or (row.scope_version or 0) >= event.dataversion:
            continue
        was = row.in_scope
        row.in_scope = included
        row.scope_version = event.dataversion
        await session.flush()
        if was is not None and was != included:
            await notify(session, row, frozenset({"in_scope"}))


class OrganisationAIRoles(BaseModel):
    """The part of ``aims.inventory.organisation_ai_roles.updated`` data the risk service keeps."""

    model_config = ConfigDict(extra="ignore")

    org_id: uuid.UUID
    roles: list[str] = []


async def apply_organisation_ai_roles_event(session: AsyncSession, event: CloudEvent) -> None:
    """Keep the organisation's AI roles (state-carrying; applied only if newer)."""
    roles = OrganisationAIRoles.model_validate(event.data)
    await upsert_if_newer(
        session,
        OrganisationAIRolesProjection,
        {
            "org_id": roles.org_id,
            "roles": roles.roles,
            "source_version": event.dataversion,
            "synced_at": utcnow(),
        },
        key="org_id",
    )


HANDLERS = [
    EventHandler(name="systems", subjects=["aims.inventory.system.>"], handle=apply_system_event),
    EventHandler(name="scope", subjects=["aims.inventory.scope.changed"], handle=apply_scope_event),
    EventHandler(
        name="organisation-ai-roles",
        subjects=["aims.inventory.organisation_ai_roles.updated"],
        handle=apply_organisation_ai_roles_event,
    ),
]
