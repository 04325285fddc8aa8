"""Keeps the projection of AI systems from inventory events, and tells listeners what changed.

``aims.inventory.system.*`` carries each system's full state and version: applied only if newer.
``aims.inventory.system_scope.changed`` carries one system's membership and the scope's number:
kept in ``scope_membership`` if newer (even before the system's row exists) and copied into the
system's row, which also takes it from there when it is first made, so the projection is the
same whatever order the two consumers apply their events in.
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
from services.risk.systems.models import (
    OrganisationAIRolesProjection,
    ScopeMembershipProjection,
    SystemProjection,
)
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


class SystemScope(BaseModel):
    """The part of ``aims.inventory.system_scope.changed`` data the risk service reads."""

    model_config = ConfigDict(extra="ignore")

    system_id: uuid.UUID
    org_id: uuid.UUID
    in_scope: bool


def _facts(row: SystemProjection) -> dict[str, Any]:
    return {name: getattr(row, name) for name in WATCHED_FACTS}


async def apply_system_event(session: AsyncSession, event: CloudEvent) -> None:
    facts = InventorySystemFacts.model_validate(event.data)
    row = await session.get(SystemProjection, facts.id, with_for_update=True)
    if row is not None and row.source_version >= event.dataversion:
        return  # an older or repeated event: what we hold is newer
    before = _facts(row) if row is not None else {}
    if row is None:
        membership = await session.get(ScopeMembershipProjection, facts.id)
        row = SystemProjection(
            id=facts.id,
            org_id=facts.org_id,
            in_scope=membership.in_scope if membership is not None else None,
            scope_version=membership.scope_version if membership is not None else None,
        )
        session.add(row)
    for name, value in facts.model_dump(exclude={"id", "org_id", "next_review_at"}).items():
        setattr(row, name, value)
    row.source_version = event.dataversion
    row.synced_at = utcnow()
    await session.flush()
    after = _facts(row)
    changed = frozenset(k for k in WATCHED_FACTS if before and before.get(k) != after.get(k))
    await notify(session, row, changed)
    if before or facts.next_review_at is not None:
        # A system seen for the first time without a review date has nothing to arm or clear
        # (a review timer is only ever armed from its events): one statement less for most
        # registrations (docs/performance.md).
        await notify_review_date(session, row, facts.next_review_at)


async def apply_system_scope_event(session: AsyncSession, event: CloudEvent) -> None:
    """Keep a system's newer membership, and apply it to the system's row if it exists."""
    scope = SystemScope.model_validate(event.data)
    kept = await upsert_if_newer(
        session,
        ScopeMembershipProjection,
        {
            "system_id": scope.system_id,
            "org_id": scope.org_id,
            "in_scope": scope.in_scope,
            "scope_version": event.dataversion,
            "synced_at": utcnow(),
        },
        key="system_id",
        version_column="scope_version",
    )
    if not kept:
        return  # an older or repeated membership: what we hold is newer
    row = await session.get(SystemProjection, scope.system_id, with_for_update=True)
    if row is None or (row.scope_version or 0) >= event.dataversion:
        return  # the system's first ``system.*`` event will take it from ``scope_membership``
    was = row.in_scope
    row.in_scope = scope.in_scope
    row.scope_version = event.dataversion
    await session.flush()
    if was is not None and was != scope.in_scope:
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
    EventHandler(
        name="system-scope",
        subjects=["aims.inventory.system_scope.changed"],
        handle=apply_system_scope_event,
    ),
    EventHandler(
        name="organisation-ai-roles",
        subjects=["aims.inventory.organisation_ai_roles.updated"],
        handle=apply_organisation_ai_roles_event,
    ),
]
